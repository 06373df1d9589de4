# vcenter-reporter container, installed from its wheel: `docker build -t vcreport .`
#   docker run --rm -v $PWD:/work vcreport demo --out /work/demo-report
#   docker run -v /etc/vcreport:/etc/vcreport:ro -v vcreport-data:/data vcreport serve --config /etc/vcreport/vcreport.toml
# Kubernetes: the manifests in deploy/ (README, "Kubernetes").

# -- stage 1: build the wheel. templates/ and samples/ go into it as reporter/templates and
#    reporter/samples (pyproject.toml), so the runtime stage needs no source tree.
FROM python:3.11-slim-bookworm AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY reporter ./reporter
COPY templates ./templates
COPY samples ./samples
COPY docs ./docs
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

# -- stage 2: the runtime: the wheel and its dependencies, the system libraries WeasyPrint
#    needs for PDF output (Pango/HarfBuzz) and fonts (DejaVu; Noto CJK for East Asian names), and
#    libxlsxwriter, the C writer report.xlsx uses when present (XlsxWriter, 5x slower, otherwise).
FROM python:3.11-slim-bookworm AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core fonts-noto-cjk libxlsxwriter4 \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
RUN useradd --create-home --uid 10001 --user-group vcreport && mkdir -p /data && chown 10001:10001 /data

# Numeric user: Kubernetes can then check runAsNonRoot without a runAsUser.
USER 10001:10001
WORKDIR /data
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
# SIGTERM from `docker stop` is handled by `vcreport serve` (finishes cleanly).
STOPSIGNAL SIGTERM
ENTRYPOINT ["vcreport"]
CMD ["--help"]
