# syntax=docker/dockerfile:1
# A small static image: the binary, CA certificates and time zones
# (distroless static), running as a non-root user. The same image is an
# Airbyte source (docs/integrations.md).
#   docker build --build-arg VERSION=$(git describe --tags --always) --build-arg COMMIT=$(git rev-parse HEAD) -t salesnav-etl .
#   docker run --rm --user "$(id -u):$(id -g)" -e SALESNAV_ACCESS_TOKEN=... -v "$PWD/out:/data" salesnav-etl run
#   docker run --rm salesnav-etl spec

FROM golang:1.26.8 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG COMMIT=unknown
# CGO off: a static binary that needs no C library in the image. .git is
# not in the build context: the commit comes in as an argument.
RUN CGO_ENABLED=0 go build -trimpath -buildvcs=false \
      -ldflags "-s -w -X main.version=${VERSION} -X main.commit=${COMMIT}" \
      -o /out/salesnav-etl ./cmd/salesnav-etl && \
    mkdir -p /out/data /out/airbyte && chmod 1777 /out/airbyte

# The debug variant of distroless static: the same base with busybox's sh,
# which Airbyte needs (its launcher runs a connector as
# sh -c 'eval "$AIRBYTE_ENTRYPOINT read --config …"').
FROM gcr.io/distroless/static-debian12:debug-nonroot
ARG VERSION=dev
COPY --from=build /out/salesnav-etl /usr/local/bin/salesnav-etl
COPY --from=build --chown=65532:65532 /out/data /data
# Airbyte mounts its files below /airbyte (or the directories it names);
# writable by whichever user the platform runs the connector as.
COPY --from=build /out/airbyte /airbyte
# The Parquet dataset (and, by default, the state file and rejects) go to
# /data: mount a volume there, or use SALESNAV_SINK=clickhouse.
ENV SALESNAV_PARQUET_DIR=/data
# Airbyte: the image's entrypoint, as an absolute path; the platform runs
# "$AIRBYTE_ENTRYPOINT spec", "… check --config …", "… read …" (the
# Airbyte commands are also at the top level of the command line).
ENV AIRBYTE_ENTRYPOINT=/usr/local/bin/salesnav-etl
LABEL io.airbyte.name=salesnav-etl/source-linkedin-sales-navigator io.airbyte.version=${VERSION}
WORKDIR /data
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/salesnav-etl"]
CMD ["run"]
