# newsmon: one image for every part (worker, poller, api, flower); the command picks the part.
#   docker build -t newsmon .     then see docker-compose.yml
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies in their own layer: it is rebuilt only when pyproject.toml changes, not on every
# edit to the source. The list is read from pyproject.toml so it is never kept twice.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > /tmp/requirements.txt \
 && pip install -r /tmp/requirements.txt \
 && rm /tmp/requirements.txt

# The source, then the package itself (its dependencies are already in place). gcc is there
# only while the classifier's compiled modules (pipeline/core/_wordscan.c, _scoring.c) are built;
# the build is optional, and without them the classifier runs its pure-Python twins, 3-4x slower.
COPY README.md setup.py ./
COPY pipeline ./pipeline
COPY workers ./workers
RUN apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends gcc libc6-dev >/dev/null \
 && pip install --no-deps . \
 && (cd / && python -c "import pipeline.core._wordscan, pipeline.core._scoring") \
 && apt-get purge -y -qq --auto-remove gcc libc6-dev >/dev/null \
 && rm -rf /var/lib/apt/lists/* build ./*.egg-info

# Default configuration; docker-compose.yml mounts ./config over it read-only.
COPY config ./config

RUN useradd --system --uid 10001 --user-group --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin newsmon
USER newsmon

ENV NEWSMON_CONFIG_DIR=/app/config \
    NEWSMON_API_HOST=0.0.0.0
EXPOSE 8080
CMD ["newsmon", "api"]
