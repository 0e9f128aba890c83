# statement-bot: the Discord bot, as a container.
#   docker build -t statement-bot .
#   docker run --init --env-file .env --stop-timeout 20 statement-bot
# The token comes only from the environment (DISCORD_TOKEN); nothing secret is built in.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# Build stage: a virtual environment with the bot and its dependencies, from wheels only (every
# dependency ships them), so no compiler is needed here and none can reach the image.
FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_ONLY_BINARY=:all:
WORKDIR /src
RUN python -m venv /opt/venv
COPY pyproject.toml README.md ./
COPY bot ./bot
RUN /opt/venv/bin/pip install --no-cache-dir .

# Runtime stage: the interpreter, the virtual environment and the statements; nothing else.
FROM ${PYTHON_IMAGE}
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DATA_DIR=/app/data \
    STATE_DIR=/app/state
RUN groupadd --system --gid 10001 statement-bot \
    && useradd --system --no-log-init --uid 10001 --gid 10001 --home-dir /app \
        --shell /usr/sbin/nologin statement-bot
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
# Owned by root and read-only to the bot; mount another folder over /app/data to change them.
COPY data ./data
# The one folder the bot writes (index cache, feedback database); mount a volume to keep it.
RUN mkdir /app/state && chown 10001:10001 /app/state
USER 10001:10001
# The bot finishes the answers in flight on SIGTERM (10 s by default), then exits 0; give it
# more than that before the SIGKILL (docker stop -t 20, compose stop_grace_period).
STOPSIGNAL SIGTERM
ENTRYPOINT ["python", "-m", "bot"]
