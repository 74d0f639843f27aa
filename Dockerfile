# The hub's image: API, workers and sandboxes share it (the command chooses).
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY pivot ./pivot
COPY canonical_model ./canonical_model
COPY connectors ./connectors
COPY observability ./observability
COPY bench ./bench
COPY contracts ./contracts
RUN pip install --no-cache-dir . && useradd --create-home pivot
USER pivot
EXPOSE 8000 9108
CMD ["pivot", "serve", "--host", "0.0.0.0", "--port", "8000"]
