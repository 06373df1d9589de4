# vcenter-reporter container: `docker run --rm -v $PWD:/work vcreport demo --out /work/demo-report`
# or `docker run -v /etc/vcreport:/etc/vcreport:ro -v vcreport-data:/data vcreport serve --config /etc/vcreport/vcreport.toml`
FROM python:3.11-slim-bookworm

# System libraries WeasyPrint needs for PDF output (Pango/HarfBuzz) and a font.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core fonts-noto-cjk \
 && rm -rf /var/lib/apt/lists/*

RUN useradd --create-home --uid 10001 vcreport
WORKDIR /src
COPY pyproject.toml setup.py README.md ./
COPY reporter ./reporter
COPY templates ./templates
COPY samples ./samples
RUN pip install --no-cache-dir . && rm -rf /src

USER vcreport
WORKDIR /data
# SIGTERM from `docker stop` is handled by `vcreport serve` (finishes cleanly).
STOPSIGNAL SIGTERM
ENTRYPOINT ["vcreport"]
CMD ["--help"]
