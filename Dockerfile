# syntax=docker/dockerfile:1
# A small static image: the binary, CA certificates and time zones
# (distroless static), running as a non-root user.
#   docker build --build-arg VERSION=$(git describe --tags --always) --build-arg COMMIT=$(git rev-parse HEAD) -t salesnav-etl .
#   docker run --rm --user "$(id -u):$(id -g)" -e SALESNAV_ACCESS_TOKEN=... -v "$PWD/out:/data" salesnav-etl run

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
    mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/salesnav-etl /usr/local/bin/salesnav-etl
COPY --from=build --chown=65532:65532 /out/data /data
# The Parquet dataset (and, by default, the state file and rejects) go to
# /data: mount a volume there, or use SALESNAV_SINK=clickhouse.
ENV SALESNAV_PARQUET_DIR=/data
WORKDIR /data
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/salesnav-etl"]
CMD ["run"]
