# One image for web, worker and beat. Debian bookworm, like the development machines.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    VAR_DIR=/var/lib/skillproof \
    TRAINER_ROOT=/opt/skillproof-trainer \
    TRAINER_PYTHON=/usr/local/bin/python3
RUN apt-get update \
    && apt-get install -y --no-install-recommends bubblewrap graphviz util-linux dataset-fashion-mnist espeak-ng wordnet-base \
       r-base-core r-cran-reticulate r-cran-ggplot2 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --create-home --home-dir /home/skillproof skillproof \
    && mkdir -p /var/lib/skillproof && chown skillproof /var/lib/skillproof

WORKDIR /app
COPY requirements.txt requirements-sandbox*.txt ./
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
# The engines baked in (README "Engines"). PyTorch is pinned to its CPU build (torch==2.13.0+cpu), which PyPI does
# not carry: give pip a source of it (--build-arg PIP_FIND_LINKS=<folder or page with the wheel>, or
# PIP_EXTRA_INDEX_URL=<PyTorch's CPU index>), or leave torch out of TRAINER_ENGINES.
ARG TRAINER_ENGINES=tensorflow,jax,torch,tf_keras,r
ARG PIP_FIND_LINKS=
ARG PIP_EXTRA_INDEX_URL=
ENV TRAINER_ENGINES=${TRAINER_ENGINES}
# Static files hashed at build time; the sandbox user and the engines' runtimes baked in.
RUN SECRET_KEY=build-only python manage.py collectstatic --noinput -v 0 \
    && SECRET_KEY=build-only python manage.py sandbox_setup --install-only

EXPOSE 8000
USER skillproof
CMD ["gunicorn", "tracker.project.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-", "--config", "python:tracker.project.gunicorn_conf"]
