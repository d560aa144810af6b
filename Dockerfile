# mclint as a static (musl) binary in an empty image, run as a non-root user.
#   docker build -t mclint .
#   docker run --rm -v "$PWD:/src" mclint check /src/rendered.yaml
# linux/amd64 and linux/arm64, each built natively (the release workflow runs
# one per architecture on a runner of that architecture: mlua's vendored Lua
# is C, compiled with musl-gcc, which builds for its own architecture only).
# The toolchain is the crate's rust-version.
FROM rust:1.88-slim-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends musl-tools \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /build
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY schemas ./schemas
COPY benches ./benches
COPY xtask ./xtask
RUN target="$(uname -m)-unknown-linux-musl" \
 && rustup target add "$target" \
 && cargo build --release --locked --target "$target" --bin mclint \
 && cp "target/$target/release/mclint" /mclint \
 && /mclint --version \
 && mkdir -m 1777 /scratch-tmp

FROM scratch
COPY --from=build /mclint /usr/local/bin/mclint
COPY --from=build /scratch-tmp /tmp
ENV PATH=/usr/local/bin TMPDIR=/tmp
USER 65532:65532
WORKDIR /src
ENTRYPOINT ["mclint"]
CMD ["--help"]
