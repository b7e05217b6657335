# trustbot in a container: see README, "Docker".
#
#   docker build -t trustbot --build-arg VERSION=$(git describe --always) .
#   docker run -v trustbot-data:/var/lib/trustbot \
#     -v /etc/trustbot/config.toml:/etc/trustbot/config.toml:ro \
#     -v /etc/trustbot/trustbot.key:/run/secrets/trustbot.key:ro trustbot

# Build: the SQLite driver needs cgo and a C compiler, which this image has.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=1 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/trustbot .

# Run: the same Debian release as the build, for the C library cgo links against.
FROM debian:bookworm-slim
# CA certificates for the HTTPS APIs of Telegram and Discord. Time zones are
# built into the binary (time/tzdata).
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --home-dir /var/lib/trustbot --shell /usr/sbin/nologin trustbot \
 && install -d -m 0700 -o trustbot -g trustbot /var/lib/trustbot
COPY --from=build /out/trustbot /usr/local/bin/trustbot
USER trustbot:trustbot
WORKDIR /var/lib/trustbot
# The database (and its -wal and -shm files) live here: keep it on a volume.
VOLUME ["/var/lib/trustbot"]
ENTRYPOINT ["/usr/local/bin/trustbot"]
CMD ["serve", "-config", "/etc/trustbot/config.toml"]
