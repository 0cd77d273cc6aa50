# One image for web, worker and beat.
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    DJANGO_SETTINGS_MODULE=cdp.settings.base CDP_VAR_DIR=/srv/cdp/var
WORKDIR /srv/cdp/app
RUN groupadd --system cdp && useradd --system --gid cdp --home /srv/cdp cdp
COPY requirements.txt .
RUN pip install -r requirements.txt
COPY . .
RUN mkdir -p /srv/cdp/var/media /srv/cdp/var/static && chown -R cdp:cdp /srv/cdp/var \
 && CDP_MODE=embedded python manage.py collectstatic --no-input
USER cdp
EXPOSE 8000
CMD ["gunicorn", "cdp.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", \
     "--access-logfile", "-"]
