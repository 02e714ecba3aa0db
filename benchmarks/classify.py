"""Classification speed with the full topic packs: articles per second on one core.

    make bench-classify        (or: .venv/bin/python benchmarks/classify.py [FEEDS_DIR] [LABELLED])
    NEWSMON_PURE_PYTHON_CLASSIFIER=1 make bench-classify    the same on the pure-Python twins

Measures ``Classifier.classify`` (title + body, the worker's call) in CPU time on one core, best
of ``ROUNDS``, on:

(a) 2 KB articles (about 2,000 characters of body plus a title):
    * ``template``: built from sentences written by the team for this benchmark (below), in
      English, Russian, Ukrainian, Azerbaijani, French and Spanish, mixing plain news with the
      topics' vocabulary and its traps ("coal mine", "business climate", ...);
    * ``real-feeds``: the entries of each feed in ``../shared/corpora/real-feeds`` joined, feed by
      feed, into 2 KB texts at run time (nothing is copied into the repository); skipped, with a
      message, where that folder is absent;
(b) the labelled items of ``../shared/corpora/labelled-dev/articles.jsonl`` (title and lede, as
    labelled), where present.

The acceptance bar is 20,000 articles/s per core for 2 KB articles. The real-feed texts are
what a newsroom's feeds look like (most articles off every topic); the template texts are dense
with topic vocabulary (every article on one or more topics, a dozen term occurrences each), the
costliest case for the scoring that follows the scan.
"""

from __future__ import annotations

import json
import platform
import random
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from pipeline.config import load_topics
from pipeline.core.classify import Classifier

ROUNDS = 5
ARTICLE_CHARS = 2000
TARGET = 20_000

Article = tuple[str, str, str]  # title, body, language

# Sentences written for this benchmark (not taken from any publication). Each language has plain
# news, on-topic sentences and traps, so the matcher sees hits, near misses and exclusions.
TEMPLATES: dict[str, list[str]] = {
    "en": [
        "The city council approved a new budget on Tuesday after a long debate about bus fares.",
        "Officials said the talks would resume next week in the capital.",
        "Analysts expect markets to stay calm while farmers wait for rain after a dry spring.",
        "The minister told reporters that the business climate had improved this year.",
        "Workers at the coal mine went on strike over unpaid wages and safety rules.",
        "A local football club signed two young players from the regional academy.",
        "Sappers cleared another stretch of farmland of landmines and unexploded ordnance.",
        "UNICEF said thousands of children still lack access to clean water and schooling.",
        "Delegates at the climate conference argued over adaptation finance for poorer nations.",
        "The central bank kept its key rate unchanged, citing stable inflation.",
        "Police closed the road for several hours after a lorry overturned near the bridge.",
        "The museum opens a new exhibition of children's book illustrations next month.",
        "The company reported higher quarterly profits and raised its dividend.",
        "Heavy rain is forecast for the weekend, with temperatures dropping sharply.",
        "Volunteers planted trees along the river bank as part of a school project.",
    ],
    "ru": [
        "Городской совет во вторник утвердил новый бюджет после долгих споров о тарифах.",
        "Официальные лица заявили, что переговоры возобновятся на следующей неделе.",
        "Аналитики ожидают спокойствия на рынках, а фермеры ждут дождей после сухой весны.",
        "Министр сообщил журналистам, что инвестиционный климат в этом году улучшился.",
        "Шахтеры угольной шахты объявили забастовку из-за невыплаты зарплаты.",
        "Саперы очистили от мин и неразорвавшихся боеприпасов еще один участок полей.",
        "ЮНИСЕФ сообщил, что тысячи детей по-прежнему не имеют доступа к чистой воде.",
        "Участники климатической конференции спорили о финансировании адаптации.",
        "Центральный банк сохранил ключевую ставку без изменений.",
        "Полиция на несколько часов перекрыла дорогу после аварии грузовика у моста.",
        "В музее откроется выставка детской книжной иллюстрации.",
        "На выходные синоптики обещают сильные дожди и резкое похолодание.",
    ],
    "uk": [
        "Міська рада у вівторок ухвалила новий бюджет після тривалої дискусії про тарифи.",
        "Посадовці заявили, що переговори відновляться наступного тижня у столиці.",
        "Сапери розмінували ще одну ділянку сільськогосподарських угідь на півдні країни.",
        "ЮНІСЕФ повідомив, що тисячі дітей досі не мають доступу до чистої води та навчання.",
        "Повернення депортованих дітей залишається одним із головних завдань омбудсмана.",
        "Учасники кліматичної конференції сперечалися про фінансування адаптації.",
        "Футбольний клуб підписав двох молодих гравців з регіональної академії.",
        "Національний банк залишив облікову ставку без змін, посилаючись на стабільну інфляцію.",
        "Поліція кілька годин тримала дорогу закритою після аварії вантажівки біля мосту.",
        "Синоптики прогнозують сильні дощі та різке похолодання на вихідних.",
    ],
    "az": [
        "Şəhər şurası çərşənbə axşamı uzun müzakirədən sonra yeni büdcəni təsdiqlədi.",
        "Rəsmilər bildirib ki, danışıqlar gələn həftə paytaxtda davam edəcək.",
        "ANAMA əməkdaşları ötən həftə ərazilərdə minatəmizləmə işləri aparıb.",
        "UNICEF bildirib ki, minlərlə uşağın hələ də təmiz suya çıxışı yoxdur.",
        "COP29 çərçivəsində iqlim maliyyəsi və adaptasiya məsələləri müzakirə olunub.",
        "Qarabağ futbol klubu növbəti oyunda iki gənc oyunçunu meydana buraxacaq.",
        "Mərkəzi Bank uçot dərəcəsini dəyişməz saxlayıb.",
        "Polis körpü yaxınlığında yük maşını aşdıqdan sonra yolu bir neçə saat bağlayıb.",
        "Sinoptiklər həftəsonu güclü yağış və kəskin soyuqlaşma gözləyirlər.",
        "Sərgidə uşaq kitablarının illüstrasiyaları nümayiş olunacaq.",
    ],
    "fr": [
        "Le conseil municipal a adopté mardi un nouveau budget après un long débat.",
        "Les responsables ont indiqué que les discussions reprendraient la semaine prochaine.",
        "Les démineurs ont dépollué une nouvelle parcelle de terres agricoles.",
        "L'UNICEF affirme que des milliers d'enfants n'ont toujours pas accès à l'eau potable.",
        "Les délégués à la conférence sur le climat ont débattu du financement de l'adaptation.",
        "Le climat social reste tendu dans l'entreprise après l'annonce des licenciements.",
        "La banque centrale a maintenu son taux directeur inchangé.",
        "La police a fermé la route pendant plusieurs heures après l'accident d'un camion.",
        "De fortes pluies sont attendues ce week-end avec une baisse des températures.",
        "Le musée ouvre le mois prochain une exposition d'illustrations de livres pour enfants.",
    ],
    "es": [
        "El ayuntamiento aprobó el martes un nuevo presupuesto tras un largo debate.",
        "Los responsables dijeron que las conversaciones se reanudarán la próxima semana.",
        "Los equipos de desminado limpiaron otra parcela de tierras de cultivo.",
        "UNICEF afirma que miles de niños siguen sin acceso a agua potable y escuela.",
        "Los delegados de la cumbre del clima discutieron la financiación de la adaptación.",
        "El clima de negocios mejoró este año, según el ministro de Economía.",
        "El banco central mantuvo sin cambios su tipo de interés de referencia.",
        "La policía cortó la carretera durante varias horas tras el vuelco de un camión.",
        "Se esperan fuertes lluvias el fin de semana con un descenso de las temperaturas.",
        "Un club de fútbol fichó a dos jugadores jóvenes de la cantera regional.",
    ],
}


def template_articles(per_language: int = 100, seed: int = 7) -> list[Article]:
    """``per_language`` 2 KB articles per language, sentences drawn at random (fixed seed)."""
    rng = random.Random(seed)
    articles = []
    for language, sentences in TEMPLATES.items():
        for _ in range(per_language):
            title = rng.choice(sentences).rstrip(".")
            body: list[str] = []
            size = 0
            while size < ARTICLE_CHARS:
                sentence = rng.choice(sentences)
                body.append(sentence)
                size += len(sentence) + 1
            articles.append((title, " ".join(body)[:ARTICLE_CHARS], language))
    return articles


def feed_articles(folder: Path) -> list[Article]:
    """2 KB texts from the real feed samples: each feed's entries joined in order."""
    from pipeline.core.parse import parse_feed

    articles = []
    for path in sorted(folder.glob("*.xml")):
        parsed = parse_feed(path.read_bytes(), source=path.stem)
        title, body, language = "", "", ""
        for entry in parsed.articles:
            if not title:
                title, language = entry.title, entry.language or ""
            body = f"{body} {entry.title}. {entry.summary}".strip()
            if len(body) >= ARTICLE_CHARS:
                articles.append((title, body[:ARTICLE_CHARS], language))
                title, body = "", ""
    return articles


def labelled_items(path: Path) -> list[Article]:
    items = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            item = json.loads(line)
            items.append((item.get("title", ""), item.get("summary", ""), item.get("language", "")))
    return items


def measure(classifier: Classifier, articles: Sequence[Article]) -> float:
    """Articles per CPU second, best of ``ROUNDS`` (after one warm-up pass)."""
    classify = classifier.classify

    def run() -> None:
        for title, body, language in articles:
            classify(title, body, language)

    run()
    best = min(_cpu(run) for _ in range(ROUNDS))
    return len(articles) / best


def _cpu(work: Callable[[], None]) -> float:
    start = time.process_time()
    work()
    return time.process_time() - start


def _line(name: str, articles: Sequence[Article], rate: float, bar: bool) -> str:
    mean = sum(len(t) + len(b) for t, b, _ in articles) / len(articles)
    verdict = ("  ok" if rate >= TARGET else f"  BELOW {TARGET:,}") if bar else ""
    return (
        f"{name:<22} {len(articles):>6} articles, mean {mean:>6.0f} chars: "
        f"{rate:>9,.0f} articles/s per core ({1e6 / rate:6.1f} µs each){verdict}"
    )


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.machine()


def main() -> None:
    repo = Path(__file__).resolve().parents[1]
    shared = repo.parent / "shared" / "corpora"
    feeds = Path(sys.argv[1]) if len(sys.argv) > 1 else shared / "real-feeds"
    default_labelled = shared / "labelled-dev" / "articles.jsonl"
    labelled = Path(sys.argv[2]) if len(sys.argv) > 2 else default_labelled
    topics = load_topics(repo / "config")
    classifier = Classifier(topics)
    terms = sum(len(t.terms) + len(t.exclusions) for t in topics)
    kind = "compiled (_wordscan.c, _scoring.c)" if classifier.compiled else "pure Python"
    print(
        f"machine: {_cpu_model()}, {platform.python_implementation()} {platform.python_version()}"
    )
    print(f"topics: {len(topics)}, terms and exclusions: {terms}; scanning and scoring: {kind}")
    print(f"best of {ROUNDS}, CPU time")

    articles = template_articles()
    print(_line("(a) 2 KB template", articles, measure(classifier, articles), True))
    for language in TEMPLATES:
        subset = [a for a in articles if a[2] == language]
        print(_line(f"      {language}", subset, measure(classifier, subset), True))
    if feeds.is_dir():
        real = feed_articles(feeds)
        print(_line("(a) 2 KB real-feeds", real, measure(classifier, real), True))
    else:
        print(f"(a) 2 KB real-feeds: skipped, {feeds} is absent")
    if labelled.is_file():
        items = labelled_items(labelled)
        print(_line("(b) labelled items", items, measure(classifier, items), False))
    else:
        print(f"(b) labelled items: skipped, {labelled} is absent")


if __name__ == "__main__":
    main()
