# One image for web, worker and beat. Debian bookworm, like the development machines.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 VAR_DIR=/var/lib/skillproof
RUN apt-get update \
    && apt-get install -y --no-install-recommends bubblewrap graphviz \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --create-home --home-dir /home/skillproof skillproof \
    && mkdir -p /var/lib/skillproof && chown skillproof /var/lib/skillproof

WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
# Static files are hashed and compressed at build time; the key is only needed to import settings.
RUN SECRET_KEY=build-only python manage.py collectstatic --noinput -v 0

USER skillproof
EXPOSE 8000
CMD ["gunicorn", "tracker.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
