"""Regression cases for the shipped topic packs (config/topics.yaml), in all six languages.

Every sentence in this file is team-written for these tests: none is copied from the labelled
corpus, the feed samples or any article. They pin the vocabulary the packs are meant to cover
(one or more cases per topic and language) and the look-alikes they must keep out (mining,
metaphors, business climate, weather forecasts, celebrity and software "children", football
clubs). The labelled set itself is read from ../shared at test time by test_evaluate.py.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from pipeline.config import load_topics
from pipeline.core.classify import Classifier

REPO = Path(__file__).resolve().parents[3]
TOPICS_YAML = REPO / "config" / "topics.yaml"
LANGUAGES = ("en", "ru", "uk", "az", "fr", "es")


@pytest.fixture(scope="module")
def shipped() -> Classifier:
    return Classifier(load_topics(REPO / "config"))


# --- positives: (language, title, summary, topics), team-written ---------------------------------

POSITIVES = [
    ("en", "Ministers agree new climate finance goal at talks in Bonn", "", {"climate"}),
    ("en", "Greenhouse gas emissions hit a new high, UN report says", "", {"climate"}),
    ("en", "Country pledges net zero emissions by 2050", "", {"climate"}),
    (
        "en",
        "Glaciers in the Alps are melting faster than expected",
        "Scientists say the ice loss has doubled in a decade as temperatures rise.",
        {"climate"},
    ),
    ("en", "Sea level rise threatens low-lying islands, IPCC warns", "", {"climate"}),
    ("en", "Scientists link deadly floods to climate change", "", {"climate"}),
    ("en", "Government unveils plan to decarbonise heavy industry", "", {"climate"}),
    ("en", "2024 was the warmest year on record, monitoring service says", "", {"climate"}),
    (
        "en",
        "The Caspian Sea is shrinking as the region warms",
        "Evaporation driven by global warming lowers the level of the world's largest lake.",
        {"climate"},
    ),
    ("en", "Activists stage climate protest outside parliament", "", {"climate"}),
    ("en", "New carbon market rules agreed under the Paris Agreement", "", {"climate"}),
    (
        "en",
        "",
        (
            "BAKU, Azerbaijan. The COP29 Presidency has called on parties to submit ambitious "
            "new NDCs ahead of the Belem summit, the lead negotiator said."
        ),
        {"climate"},
    ),
    (
        "en",
        "UN chief: world on track for 2.7C of warming",
        (
            "The planet is heading for catastrophic heating unless countries slash fossil fuel "
            "use, the secretary-general said."
        ),
        {"climate"},
    ),
    (
        "en",
        "Central Asia's glaciers have lost a third of their mass",
        (
            "The retreat threatens water supplies for millions, according to a study of "
            "satellite images."
        ),
        {"climate"},
    ),
    ("en", "WMO: Asia warming twice as fast as the global average", "", {"climate"}),
    (
        "en",
        "Azerbaijan presents its first biennial transparency report to the UNFCCC",
        "",
        {"climate"},
    ),
    (
        "en",
        "Kyrgyzstan launches climate-resilient agriculture project with UNDP support",
        "",
        {"climate"},
    ),
    ("en", "EU adopts 2040 emissions target", "", {"climate"}),
    ("en", "Ocean heat reaches new record as planet warms", "", {"climate"}),
    ("en", "Kazakhstan adopts carbon neutrality strategy until 2060", "", {"climate"}),
    ("en", "Heat deaths in Europe tripled by global heating, study finds", "", {"climate"}),
    (
        "en",
        "Bonn talks end without agreement on adaptation indicators",
        "Negotiators at the UN climate meetings failed to agree on the global goal on adaptation.",
        {"climate"},
    ),
    (
        "en",
        "Wildfires made twice as likely by human-caused warming, scientists say",
        "",
        {"climate"},
    ),
    (
        "en",
        "Developed nations promise $300bn a year to poorer countries",
        (
            "The new finance goal agreed in Baku falls short of the $1.3 trillion developing "
            "countries sought to cope with climate impacts."
        ),
        {"climate"},
    ),
    ("en", "CO2 levels in the atmosphere hit a new record", "", {"climate"}),
    ("ru", "В Баку обсудили изменение климата и зеленую энергетику", "", {"climate"}),
    ("ru", "Выбросы парниковых газов в стране сократились на 5%", "", {"climate"}),
    ("ru", "Ледники Памира тают из-за потепления климата", "", {"climate"}),
    ("ru", "Страна намерена достичь углеродной нейтральности к 2060 году", "", {"climate"}),
    (
        "ru",
        "Каспийское море мелеет: ученые связывают это с глобальным потеплением",
        "",
        {"climate"},
    ),
    (
        "ru",
        "Участники КС-29 договорились о новой цели климатического финансирования",
        "",
        {"climate"},
    ),
    ("ru", "ВМО: 2024 год стал самым теплым за всю историю наблюдений", "", {"climate"}),
    ("ru", "Генсек ООН призвал страны сократить выбросы парниковых газов", "", {"climate"}),
    ("ru", "В Казахстане приняли стратегию достижения углеродной нейтральности", "", {"climate"}),
    ("ru", "Председатель КС-29 Мухтар Бабаев выступил на сессии в Бонне", "", {"climate"}),
    ("ru", "Ученые: ледники Центральной Азии сократились на треть", "", {"climate"}),
    ("ru", "Повышение уровня моря угрожает прибрежным городам", "", {"climate"}),
    (
        "ru",
        "",
        (
            "В Баку прошла конференция, посвященная адаптации к изменению климата в странах "
            "Южного Кавказа."
        ),
        {"climate"},
    ),
    ("uk", "Україна оновила національно визначений внесок і кліматичні цілі", "", {"climate"}),
    ("uk", "Льодовики в Карпатах тануть через глобальне потепління", "", {"climate"}),
    ("uk", "Уряд ухвалив стратегію декарбонізації енергетики", "", {"climate"}),
    ("uk", "Скорочення викидів парникових газів стане пріоритетом", "", {"climate"}),
    (
        "uk",
        "Україна представила оновлений національно визначений внесок до РКЗК ООН",
        "",
        {"climate"},
    ),
    ("uk", "Зміна клімату загрожує врожаям в Україні", "", {"climate"}),
    ("uk", "Уряд схвалив план адаптації до зміни клімату", "", {"climate"}),
    ("az", "Azərbaycan iqlim dəyişikliklərinə uyğunlaşma planını təqdim edib", "", {"climate"}),
    ("az", "Nazir: Xəzər dənizinin dayazlaşması qlobal istiləşmə ilə bağlıdır", "", {"climate"}),
    ("az", "Bakıda iqlim maliyyəsi üzrə danışıqlar davam edir", "", {"climate"}),
    ("az", "Karbon neytrallığına keçid üçün yeni strategiya hazırlanıb", "", {"climate"}),
    ("az", "COP29 Prezidenti: İqlim maliyyəsi üzrə yeni hədəf razılaşdırılıb", "", {"climate"}),
    ("az", "Xəzər dənizinin səviyyəsi iqlim dəyişikliyi səbəbindən azalır", "", {"climate"}),
    (
        "az",
        "Azərbaycan istixana qazlarının emissiyasını 40 faiz azaltmağı hədəfləyir",
        "",
        {"climate"},
    ),
    ("fr", "Les émissions de CO2 de la France ont baissé en 2023", "", {"climate"}),
    ("fr", "Le GIEC alerte sur la montée des eaux", "", {"climate"}),
    ("fr", "La neutralité carbone d'ici 2050 reste hors de portée", "", {"climate"}),
    ("fr", "La fonte des glaciers alpins s'accélère", "", {"climate"}),
    ("fr", "La COP29 s'ouvre à Bakou sur fond de désaccords financiers", "", {"climate"}),
    ("fr", "Le réchauffement de la planète s'accélère, selon des climatologues", "", {"climate"}),
    (
        "fr",
        "L'Union européenne adopte son objectif de réduction des émissions pour 2040",
        "",
        {"climate"},
    ),
    ("es", "La ONU pide más financiación climática para los países vulnerables", "", {"climate"}),
    ("es", "Las emisiones de CO2 de España bajaron un 4%", "", {"climate"}),
    (
        "es",
        "El deshielo de los glaciares andinos se acelera por el calentamiento global",
        "",
        {"climate"},
    ),
    ("es", "El país busca la neutralidad de carbono en 2050", "", {"climate"}),
    ("es", "La COP29 cierra con un acuerdo de financiación climática", "", {"climate"}),
    ("es", "Los glaciares de los Andes retroceden por el cambio climático", "", {"climate"}),
    ("es", "España reduce sus emisiones de gases de efecto invernadero", "", {"climate"}),
    ("en", "Campaigners urge end to child marriage in the region", "", {"child_rights"}),
    (
        "en",
        "Report finds millions of children out of school in conflict zones",
        "",
        {"child_rights"},
    ),
    ("en", "Children killed in airstrike on refugee camp, agency says", "", {"child_rights"}),
    ("en", "Ukraine brings back 20 children deported to Russia", "", {"child_rights"}),
    ("en", "Foster care reform aims to move children out of orphanages", "", {"child_rights"}),
    (
        "en",
        "Minimum age of criminal responsibility should be raised, experts say",
        "",
        {"child_rights"},
    ),
    ("en", "Violence against children at home rose during the lockdown", "", {"child_rights"}),
    ("en", "Unaccompanied minors stranded at the border", "", {"child_rights"}),
    ("en", "Child labour in cocoa farms persists, study says", "", {"child_rights"}),
    (
        "en",
        "",
        (
            "UNICEF Representative in Azerbaijan met with the State Committee for Family, Women "
            "and Children Affairs to discuss inclusive education."
        ),
        {"child_rights"},
    ),
    ("en", "Sudan: 14 million children need humanitarian aid, agency warns", "", {"child_rights"}),
    ("en", "Gunmen kidnap dozens of schoolchildren in northern Nigeria", "", {"child_rights"}),
    ("en", "Taliban ban on girls' education enters its fourth year", "", {"child_rights"}),
    ("en", "Russia has taken 20,000 Ukrainian children, Kyiv says", "", {"child_rights"}),
    ("en", "Children in Gaza face famine, UN agencies say", "", {"child_rights"}),
    (
        "en",
        "Government raises minimum marriage age to 18 to curb child marriages",
        "",
        {"child_rights"},
    ),
    (
        "en",
        "Ombudsman calls for better protection of children's rights online",
        "",
        {"child_rights"},
    ),
    ("en", "One in four children lives in poverty, report says", "", {"child_rights"}),
    ("en", "Orphaned children in Ukraine wait for foster families", "", {"child_rights"}),
    (
        "en",
        "Azerbaijan marks International Children's Day",
        "The Ombudsman issued a statement on the protection of children's rights on June 1.",
        {"child_rights"},
    ),
    (
        "en",
        "Children account for a third of civilian casualties in the conflict",
        "",
        {"child_rights"},
    ),
    ("en", "Three children wounded in a drone attack on Kherson", "", {"child_rights"}),
    ("en", "Children among dead in Russian air strike on Sumy", "", {"child_rights"}),
    ("ru", "Уполномоченный по правам ребенка посетила детский дом", "", {"child_rights"}),
    ("ru", "Число детей-беженцев выросло вдвое", "", {"child_rights"}),
    ("ru", "Насилие над детьми: в Госдуме обсудили новый закон", "", {"child_rights"}),
    ("ru", "Дети пострадали при обстреле школы", "", {"child_rights"}),
    (
        "ru",
        "Омбудсмен потребовала вернуть украинских детей, вывезенных в Россию",
        "",
        {"child_rights"},
    ),
    ("ru", "ЮНИСЕФ: миллионы детей в Судане страдают от голода", "", {"child_rights"}),
    ("ru", "В Азербайджане обсудили защиту прав ребенка", "", {"child_rights"}),
    ("ru", "Число детей, пострадавших в конфликте, выросло", "", {"child_rights"}),
    (
        "ru",
        "Госкомитет по проблемам семьи, женщин и детей провел акцию ко Дню защиты детей",
        "",
        {"child_rights"},
    ),
    ("uk", "Росія депортувала тисячі українських дітей", "", {"child_rights"}),
    ("uk", "Дітей-сиріт влаштують у прийомні сім'ї", "", {"child_rights"}),
    ("uk", "Діти загинули внаслідок ракетного удару по Харкову", "", {"child_rights"}),
    ("uk", "Омбудсман: торгівля дітьми залишається проблемою", "", {"child_rights"}),
    ("uk", "Омбудсман: Росія незаконно вивезла ще 300 українських дітей", "", {"child_rights"}),
    ("uk", "ЮНІСЕФ допоможе дітям, які постраждали від обстрілів", "", {"child_rights"}),
    ("uk", "Служба у справах дітей забрала дитину з неблагополучної сім'ї", "", {"child_rights"}),
    ("az", "Uşaqlara qarşı zorakılığın qarşısının alınması müzakirə olunub", "", {"child_rights"}),
    ("az", "Uşaq əməyinin istismarı ilə mübarizə gücləndirilir", "", {"child_rights"}),
    (
        "az",
        "Valideyn himayəsindən məhrum olmuş uşaqlar üçün yeni mərkəz açılıb",
        "",
        {"child_rights"},
    ),
    (
        "az",
        "UNICEF Azərbaycan nümayəndəsi uşaq hüquqları ilə bağlı görüş keçirib",
        "",
        {"child_rights"},
    ),
    (
        "az",
        "Ailə, Qadın və Uşaq Problemləri üzrə Dövlət Komitəsi uşaq əməyi ilə bağlı tədbir keçirib",
        "",
        {"child_rights"},
    ),
    ("fr", "Les mineurs non accompagnés dorment dans la rue", "", {"child_rights"}),
    ("fr", "La maltraitance des enfants en hausse, selon un rapport", "", {"child_rights"}),
    ("fr", "Travail des enfants : des millions de mineurs exploités", "", {"child_rights"}),
    ("fr", "La Défenseure des enfants alerte sur la santé mentale", "", {"child_rights"}),
    ("fr", "L'UNICEF s'inquiète du sort des enfants à Gaza", "", {"child_rights"}),
    ("fr", "Des milliers d'enfants ukrainiens déportés en Russie", "", {"child_rights"}),
    ("fr", "Protection de l'enfance : le gouvernement présente un plan", "", {"child_rights"}),
    ("es", "Aumenta la desnutrición infantil en la región", "", {"child_rights"}),
    ("es", "Niños migrantes no acompañados llegan a la frontera", "", {"child_rights"}),
    (
        "es",
        "La Defensoría del Pueblo denuncia el reclutamiento de menores por grupos armados",
        "",
        {"child_rights"},
    ),
    ("es", "Protección de niñas, niños y adolescentes frente a la violencia", "", {"child_rights"}),
    ("es", "UNICEF alerta del aumento del trabajo infantil", "", {"child_rights"}),
    ("es", "Miles de niños migrantes cruzan la selva del Darién", "", {"child_rights"}),
    (
        "es",
        "La Defensoría de la Niñez pide proteger a los menores en centros del Estado",
        "",
        {"child_rights"},
    ),
    ("en", "Sappers remove anti-tank mines from farmland", "", {"demining"}),
    ("en", "Unexploded ordnance found near school in Kharkiv", "", {"demining"}),
    ("en", "Country announces withdrawal from the Ottawa Convention", "", {"demining"}),
    ("en", "Mine detection rats help clear fields in Cambodia", "", {"demining"}),
    ("en", "World War II bomb defused in Berlin, residents evacuated", "", {"demining"}),
    ("en", "Cluster munitions still kill civilians years after war", "", {"demining"}),
    ("en", "Armenia hands over maps of minefields to Azerbaijan", "", {"demining"}),
    ("en", "Civilian injured after stepping on a mine in Kalbajar", "", {"demining"}),
    ("en", "ANAMA: 120 mines neutralised in liberated territories last week", "", {"demining"}),
    ("en", "Civilian wounded in landmine blast in Kalbajar", "", {"demining"}),
    ("en", "Azerbaijan urges international support for humanitarian demining", "", {"demining"}),
    ("en", "Lithuania, Latvia and Estonia leave anti-personnel mine treaty", "", {"demining"}),
    ("en", "Unexploded bomb from World War Two found in Plymouth", "", {"demining"}),
    (
        "en",
        "Ukraine is the most mined country in the world, minister says",
        "About a quarter of its territory is contaminated with explosive ordnance.",
        {"demining"},
    ),
    ("en", "Dogs trained to sniff out mines arrive in Ukraine", "", {"demining"}),
    (
        "en",
        "The mine problem remains one of the main obstacles to reconstruction in Karabakh",
        "",
        {"demining"},
    ),
    ("en", "HALO Trust clears 1,000 hectares in Angola", "", {"demining"}),
    ("en", "Cluster bomb remnants kill two boys in Laos", "", {"demining"}),
    ("en", "Explosive ordnance disposal teams defuse shells near Kherson", "", {"demining"}),
    ("en", "Armenia planted mines even after the war, Baku says", "", {"demining"}),
    ("ru", "Саперы обезвредили противотанковую мину на поле", "", {"demining"}),
    ("ru", "В Херсонской области продолжается гуманитарное разминирование", "", {"demining"}),
    ("ru", "Мирный житель подорвался на мине в Карабахе", "", {"demining"}),
    ("ru", "В лесу нашли авиабомбу времен войны", "", {"demining"}),
    ("ru", "Кассетные боеприпасы угрожают мирным жителям", "", {"demining"}),
    ("ru", "На освобожденных территориях за неделю обезврежено 150 мин", "", {"demining"}),
    ("ru", "В Кельбаджаре мирный житель подорвался на противотанковой мине", "", {"demining"}),
    ("ru", "Саперы МЧС уничтожили снаряд времен Великой Отечественной войны", "", {"demining"}),
    ("ru", "Литва вышла из Оттавской конвенции о запрете противопехотных мин", "", {"demining"}),
    ("uk", "Піротехніки ДСНС знешкодили 50 вибухонебезпечних предметів", "", {"demining"}),
    ("uk", "На Харківщині тракторист підірвався на міні", "", {"demining"}),
    ("uk", "Україна отримала нові машини для гуманітарного розмінування", "", {"demining"}),
    ("uk", "Ще 1000 гектарів очищено від мін", "", {"demining"}),
    ("uk", "На Чернігівщині піротехніки знешкодили авіабомбу", "", {"demining"}),
    ("uk", "Сапери розмінували 200 гектарів сільськогосподарських угідь", "", {"demining"}),
    ("uk", "Водій трактора підірвався на протитанковій міні", "", {"demining"}),
    ("az", "Füzulidə mina partlayışı nəticəsində bir nəfər yaralanıb", "", {"demining"}),
    ("az", "Ötən həftə 300 piyada əleyhinə mina zərərsizləşdirilib", "", {"demining"}),
    ("az", "Ermənistan minalanmış ərazilərin xəritələrini təqdim edib", "", {"demining"}),
    ("az", "Mina təhlükəsi barədə maarifləndirmə tədbiri keçirilib", "", {"demining"}),
    ("az", "ANAMA: Ötən həftə 800 hektar ərazi minalardan təmizlənib", "", {"demining"}),
    ("az", "Kəlbəcərdə minaya düşən hərbçi yaralanıb", "", {"demining"}),
    ("az", "Azad edilmiş ərazilərdə minaların təmizlənməsi davam edir", "", {"demining"}),
    ("fr", "Le déminage de l'Ukraine prendra des décennies", "", {"demining"}),
    ("fr", "Un agriculteur blessé par une mine antipersonnel", "", {"demining"}),
    ("fr", "Un obus de la Première Guerre mondiale découvert dans un champ", "", {"demining"}),
    ("fr", "Les armes à sous-munitions tuent encore au Laos", "", {"demining"}),
    (
        "fr",
        "Des démineurs neutralisent une bombe de la Seconde Guerre mondiale à Lyon",
        "",
        {"demining"},
    ),
    (
        "fr",
        "La Pologne quitte la convention d'Ottawa sur les mines antipersonnel",
        "",
        {"demining"},
    ),
    ("fr", "Au Cambodge, des rats détectent les mines terrestres", "", {"demining"}),
    ("es", "Colombia avanza en el desminado humanitario", "", {"demining"}),
    ("es", "Un soldado pisó una mina antipersonal en el Catatumbo", "", {"demining"}),
    ("es", "Hallan artefactos sin explotar en una zona rural", "", {"demining"}),
    ("es", "Víctimas de minas reciben prótesis en Bogotá", "", {"demining"}),
    ("es", "Colombia destruye 500 minas antipersonal en Antioquia", "", {"demining"}),
    ("es", "Campesino herido por una mina antipersonal en Nariño", "", {"demining"}),
    ("es", "Ucrania necesitará décadas de desminado", "", {"demining"}),
    (
        "en",
        "UNICEF teaches children about the dangers of landmines",
        "",
        {"child_rights", "demining"},
    ),
    (
        "en",
        "Minister meets UNICEF director on COP29 and the mine threat",
        "",
        {"child_rights", "climate", "demining"},
    ),
    (
        "az",
        "Məktəbli uşaqlar arasında mina təhlükəsi barədə maarifləndirmə aparılıb",
        "",
        {"child_rights", "demining"},
    ),
]

# --- hard negatives: (language, title, summary), team-written -----------------------------------

NEGATIVES = [
    ("en", "Investment climate improves as reforms take hold", ""),
    (
        "en",
        "Heatwave expected this weekend, forecasters say",
        "Temperatures could reach 38C on Saturday.",
    ),
    ("en", "Storm brings heavy rain and flooding to the coast", ""),
    ("en", "New car models get dual-zone climate control", ""),
    ("en", "Political climate tense ahead of the vote", ""),
    ("en", "Greenhouse tomatoes fetch record prices at market", ""),
    ("en", "Home Assistant climate entity stops updating after upgrade", ""),
    ("en", "Child star returns to the stage after ten years", ""),
    ("en", "Royal children attend Easter service", ""),
    ("en", "How to kill a child process in Linux", ""),
    ("en", "Two children and an adult die in a house fire", ""),
    ("en", "Children return to school after summer break", ""),
    ("en", "Kids' choice awards: full list of winners", ""),
    ("en", "Teen chess prodigy wins national title", ""),
    ("en", "Coal mine collapse kills miners", ""),
    ("en", "Gold mine output rises in the third quarter", ""),
    ("en", "Bitcoin mining company expands in Texas", ""),
    ("en", "Minecraft update adds new caves", ""),
    ("en", "Pension reform is a political minefield", ""),
    ("en", "Diplomats work to defuse tensions on the border", ""),
    ("en", "Explosion at a copper mine injures workers", ""),
    ("en", "Shakhtar beat Qarabag in Champions League", ""),
    ("en", "Lithium mine approved despite protests", ""),
    ("en", "Hurricane Milton makes landfall in Florida as category 3 storm", ""),
    ("en", "Heavy snowfall disrupts traffic in Baku", ""),
    ("en", "Drought hits wheat harvest, farmers say", ""),
    ("en", "The investment climate in Central Asia is improving, bank says", ""),
    ("en", "Oil prices rise as OPEC+ extends output cuts", ""),
    ("en", "Solar farm opens in Nakhchivan", ""),
    ("en", "Prince George celebrates his birthday", ""),
    ("en", "Child actor wins award at festival", ""),
    ("en", "Kids' TV show returns for a new season", ""),
    ("en", "School bus crash injures 12 pupils", ""),
    ("en", "Children's choir performs at Christmas concert", ""),
    ("en", "Mother charged after child found alone in car", ""),
    ("en", "React warns when children have no key prop", ""),
    ("en", "Youth football academy opens in Baku", ""),
    ("en", "Coal miners strike over pay in Kuzbass", ""),
    ("en", "Gold mining output up 5% in Uzbekistan", ""),
    ("en", "Crypto miners unplug rigs as Bitcoin price falls", ""),
    ("en", "Mine tailings dam bursts in Brazil", ""),
    ("en", "Police defuse tensions at protest", ""),
    ("en", "This is a minefield of regulations for small businesses", ""),
    ("en", "Mining company posts record profit", ""),
    ("en", "Copper mine in Chile reopens after strike", ""),
    ("en", "Minesweeper clone released for Linux", ""),
    ("en", "Qarabag beat Ferencvaros 3-1", ""),
    ("en", "Ukrainian children's choir performs in Vienna", ""),
    ("en", "A period of warming relations between the two capitals", ""),
    ("en", "Explosion at a mine in Shanxi province traps coal workers", ""),
    ("en", "Drone show lights up the sky for children's festival", ""),
    ("ru", "Инвестиционный климат в Узбекистане улучшился", ""),
    ("ru", "В Москве ожидается жара до +35 градусов", ""),
    ("ru", "Как правильно пользоваться климат-контролем в автомобиле", ""),
    ("ru", "В регионе мягкие климатические условия для отдыха", ""),
    ("ru", "Детский мир открыл новый магазин", ""),
    ("ru", "Ребенок погиб в ДТП в Подмосковье", ""),
    ("ru", "На детском Евровидении победила Грузия", ""),
    ("ru", "Взрыв метана на шахте в Кузбассе", ""),
    ("ru", "Шахтер обыграл Динамо в дерби", ""),
    ("ru", "Закон о майнинге криптовалют вступил в силу", ""),
    ("ru", "Министр обороны провел совещание", ""),
    ("ru", "Синоптики: в выходные в Баку ожидается дождь и сильный ветер", ""),
    ("ru", "Деловой климат в регионе улучшился, считают предприниматели", ""),
    ("ru", "Детский сад открылся после ремонта", ""),
    ("ru", "Подросток выиграл турнир по шахматам", ""),
    ("ru", "В Кузбассе на шахте погибли горняки", ""),
    ("ru", "Министр финансов представил бюджет", ""),
    ("ru", "Склад боеприпасов уничтожен в результате удара", ""),
    ("ru", "Интересные книги для детей на лето", ""),
    ("uk", "Синоптики прогнозують спеку до +37 градусів", ""),
    ("uk", "Інвестиційний клімат в Україні погіршився", ""),
    ("uk", "Дитячий світ відкриє нові магазини", ""),
    ("uk", "Діти повернулися до шкіл після канікул", ""),
    ("uk", "Шахтар переміг Карпати з рахунком 5:2", ""),
    ("uk", "Гірники видобули мільйон тонн вугілля", ""),
    ("uk", "ЗСУ знищили склад боєприпасів окупантів", ""),
    ("uk", "Синоптики попереджають про сильний вітер і дощ", ""),
    ("uk", "Діти виступили на шкільному концерті", ""),
    ("uk", "Шахтарі Донбасу видобули рекордну кількість вугілля", ""),
    ("uk", "Міністр освіти зустрівся з дітьми у школі", ""),
    ("az", "Bakıda sabah hava isti olacaq", ""),
    ("az", "Azərbaycanın biznes iqlimi yaxşılaşır", ""),
    ("az", "Uşaqlar arasında şahmat turniri başa çatıb", ""),
    ("az", "Qarabağ Çempionlar Liqasında qələbə qazandı", ""),
    ("az", "Daşkəsəndə dəmir filizi mədəni yenidən işə düşüb", ""),
    ("az", "Mina xanım yeni kitabını təqdim edib", ""),
    ("az", "Sabah Bakıda küləkli hava şəraiti gözlənilir", ""),
    ("az", "Uşaqlar üçün yeni cizgi filmi nümayiş olunub", ""),
    ("az", "Qarabağ klubu yeni mövsümə hazırlaşır", ""),
    ("az", "Minarənin bərpası başa çatıb", ""),
    ("fr", "Le climat des affaires se dégrade en France", ""),
    ("fr", "Un climat de tension règne à l'Assemblée", ""),
    ("fr", "Canicule : Météo-France place douze départements en vigilance orange", ""),
    ("fr", "Le film pour enfants bat des records au box-office", ""),
    ("fr", "Un enfant prodige du piano en concert à Paris", ""),
    ("fr", "Déminer la crise politique, la mission du Premier ministre", ""),
    ("fr", "Mine de rien, le chômage baisse encore", ""),
    ("fr", "Accident dans une mine de charbon : trois mineurs blessés", ""),
    ("fr", "Orages : plusieurs départements en vigilance jaune", ""),
    ("fr", "Un enfant de 8 ans remporte un concours de dessin", ""),
    ("fr", "La mine de lithium de l'Allier divise les habitants", ""),
    ("fr", "Une bombe de peinture lancée sur la façade de la mairie", ""),
    ("es", "El clima laboral influye en la productividad de la empresa", ""),
    ("es", "Ola de calor: temperaturas de hasta 42 grados este fin de semana", ""),
    ("es", "El calentamiento previo al partido se retrasó por la lluvia", ""),
    ("es", "Los niños prodigio del ajedrez brillan en el torneo", ""),
    ("es", "La Voz Kids estrena nueva temporada", ""),
    ("es", "La minera aumenta la producción en las minas de cobre de Perú", ""),
    ("es", "El gobierno avanza por un terreno minado en el Congreso", ""),
    ("es", "Mina de oro en Perú reanuda operaciones", ""),
    ("es", "Alerta por lluvias intensas en el norte del país", ""),
    ("es", "Un niño de 10 años gana el concurso de ortografía", ""),
    ("es", "Las minas de litio de Bolivia atraen inversiones", ""),
    ("es", "La explotación de las minas de plata de Potosí cumple cinco siglos", ""),
]


@pytest.mark.parametrize(("language", "title", "summary", "topics"), POSITIVES)
def test_team_written_positives(
    shipped: Classifier, language: str, title: str, summary: str, topics: set[str]
) -> None:
    result = shipped.classify(title, summary, language)
    assert set(result.topics) == topics, result.matched


@pytest.mark.parametrize(("language", "title", "summary"), NEGATIVES)
def test_team_written_hard_negatives(
    shipped: Classifier, language: str, title: str, summary: str
) -> None:
    result = shipped.classify(title, summary, language)
    assert result.topics == {}, result.matched


def test_every_topic_and_language_has_cases() -> None:
    covered = Counter((lang, topic) for lang, _, _, topics in POSITIVES for topic in topics)
    negatives = Counter(lang for lang, _, _ in NEGATIVES)
    for language in LANGUAGES:
        assert negatives[language] >= 2, language
        for topic in ("climate", "child_rights", "demining"):
            assert covered[(language, topic)] >= 3, (language, topic)


def test_every_pack_has_terms_in_all_six_languages(shipped: Classifier) -> None:
    data = yaml.safe_load(TOPICS_YAML.read_text(encoding="utf-8"))
    for topic in data["topics"]:
        assert set(LANGUAGES) <= set(topic["terms"]), topic["id"]
        assert topic.get("description"), topic["id"]


def _no_duplicate_keys(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    keys = [loader.construct_object(key) for key, _ in node.value]
    repeated = [key for key, count in Counter(map(str, keys)).items() if count > 1]
    if repeated:
        raise AssertionError(f"repeated keys at line {node.start_mark.line + 1}: {repeated}")
    return loader.construct_mapping(node)


def test_topics_yaml_repeats_no_term() -> None:
    """YAML keeps the last of two equal keys silently: a repeated term would lose a weight."""

    class StrictLoader(yaml.SafeLoader):
        pass

    StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _no_duplicate_keys)
    yaml.load(TOPICS_YAML.read_text(encoding="utf-8"), StrictLoader)  # noqa: S506
