# One image for every Pricelens process: collector API, scheduler, dashboard, migrations, the agent,
# and the demo services (docker-compose.yml picks the command). Runs as an unprivileged user.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN groupadd --system --gid 10001 pricelens \
 && useradd --system --uid 10001 --gid pricelens --home-dir /var/lib/pricelens --shell /usr/sbin/nologin pricelens

COPY pyproject.toml README.md /src/
COPY agent /src/agent
COPY collector /src/collector
COPY dashboard /src/dashboard
RUN pip install "/src[server,agent]" && rm -rf /src

# Mount points owned by the service user, so fresh named volumes inherit that ownership.
RUN install -d -o pricelens -g pricelens -m 0750 \
        /var/lib/pricelens /var/lib/pricelens-agent /var/lib/pricelens-tokens \
        /var/log/load_ftp /srv/load_ftp/errors /srv/load_ftp/inbox

USER pricelens
WORKDIR /var/lib/pricelens
ENV PRICELENS_DATA_DIR=/var/lib/pricelens
EXPOSE 8061 8062
CMD ["pricelens", "serve", "--host", "0.0.0.0", "--port", "8061"]
