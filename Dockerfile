# Ferry agent: a static binary on a distroless base, running as non-root.
#   docker build -t ferry .
#   docker run -e FERRY_CLUSTER_ID=shanghai -e FERRY_ADVERTISE=10.1.2.3 -e FERRY_TOKEN=... -e FERRY_ENCRYPT=... \
#     -p 7700:7700 -p 7701:7701/tcp -p 7701:7701/udp -p 7702:7702 -v ferry-data:/var/lib/ferry ferry
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X github.com/ferrysync/ferry/agent.Version=${VERSION}" -o /out/ferry ./cmd/ferry \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/ferry /usr/local/bin/ferry
COPY --from=build --chown=65532:65532 /out/data /var/lib/ferry
ENV FERRY_DATA_DIR=/var/lib/ferry \
    FERRY_BIND=0.0.0.0
VOLUME ["/var/lib/ferry"]
# HTTP API, gossip (TCP and UDP), Raft.
EXPOSE 7700/tcp 7701/tcp 7701/udp 7702/tcp
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/ferry"]
CMD ["agent"]
