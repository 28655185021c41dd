# smartcart: one image for the web workers, the live stream's pool, the Celery worker and
# Celery beat, and one for nginx in front of them (docker-compose.yml builds both).
#
#   docker build --target runtime -t smartcart .
#   docker build --target proxy -t smartcart-proxy .
#
# Three stages: the first compiles mysqlclient against the MariaDB headers; the second
# (runtime) carries only the finished virtualenv and the run-time libraries, so no compiler
# ships; the third (proxy) is nginx with the static files the second collected. The app runs
# as an unprivileged user and cannot write its own code. No secret is baked in: SECRET_KEY,
# DATABASE_URL and the rest come from the environment at run time (.env, see .env.example),
# the TLS certificate from a mounted directory.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- build: the virtualenv --------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS build

RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc libc6-dev libmariadb-dev pkg-config \
    && rm -rf /var/lib/apt/lists/*

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
COPY requirements/base.txt requirements/mysql.txt /tmp/requirements/
RUN /opt/venv/bin/pip install -r /tmp/requirements/base.txt -r /tmp/requirements/mysql.txt

# --- runtime ----------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime

# libmariadb3: mysqlclient at run time; libzbar0: the decoder's pyzbar fallback.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libmariadb3 libzbar0 \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 smartcart \
    && useradd --system --uid 10001 --gid smartcart --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin smartcart

COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    SMARTCART_MODE=production \
    STATIC_ROOT=/app/staticfiles \
    MEDIA_ROOT=/data/media \
    EMAIL_FILE_PATH=/data/mail \
    PORT=8000

WORKDIR /app
# Owned by root and read-only for the app user: a compromised process cannot change the code.
COPY . /app
# Hashed, compressed static files: nginx serves them (the proxy stage copies them), and Django
# needs their manifest to name them in pages. The key, the address and
# the gateway are throwaways that exist only for this command (production settings refuse to
# load without a strong key, an https:// SITE_URL and a way to take payments); none is used at
# run time, where they must come from the environment.
RUN SECRET_KEY=collectstatic-only-not-a-secret-never-used-at-run-time \
    SITE_URL=https://collectstatic.invalid PAYMENT_GATEWAY=test \
    python manage.py collectstatic --no-input \
    && python -m compileall -q /app \
    && mkdir -p /data/media /data/mail /data/beat \
    && chown -R smartcart:smartcart /data

USER smartcart
EXPOSE 8000

# Liveness only (/healthz does no I/O): /readyz, which checks the database, Redis and the
# broker, is for the load balancer, so a database restart does not make every node "unhealthy".
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8000'), timeout=4)"]

# The web workers (WSGI), as `make prod-local` runs each web node (deploy/prod-local.sh);
# settings in deploy/gunicorn.conf.py. The compose file's stream service runs the ASGI pool
# from the same image (deploy/gunicorn-stream.conf.py).
CMD ["gunicorn", "shopcart.wsgi:application", "-c", "deploy/gunicorn.conf.py"]

# --- proxy: nginx with the static files ---------------------------------------------------------
FROM nginx:1.28 AS proxy

COPY --from=runtime /app/staticfiles /srv/smartcart/static
COPY deploy/nginx/smartcart-routes.conf /etc/nginx/smartcart-routes.conf
COPY deploy/nginx/compose.conf /etc/nginx/conf.d/default.conf
EXPOSE 80 443
