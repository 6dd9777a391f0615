#!/usr/bin/env node
// The container's HEALTHCHECK (no curl in the image): GET /healthz on the supervisor's http.listen,
// asked from inside the container, so a loopback address works and 0.0.0.0 / :: is asked on
// loopback. Exit 0 on 200, 1 otherwise, with one line saying what was seen.
const fs = require("node:fs");
const http = require("node:http");
const path = require("node:path");

const TIMEOUT_MS = 4_000;

function fail(message) {
  process.stderr.write(`healthcheck: ${message}\n`);
  process.exit(1);
}

const file = path.resolve(process.env.WARDEN_CONFIG ?? path.join("config", "warden.json"));
let listen;
try {
  listen = JSON.parse(fs.readFileSync(file, "utf8")).http?.listen;
} catch (err) {
  fail(`cannot read ${file}: ${err.message}`);
}
if (listen === null) {
  process.stdout.write(`healthcheck: http.listen is null in ${file}, nothing to ask\n`);
  process.exit(0);
}
const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(listen ?? "127.0.0.1:9480");
if (!m) fail(`http.listen ${JSON.stringify(listen)} in ${file} is not host:port`);
const wildcard = { "0.0.0.0": "127.0.0.1", "::": "::1" };
const host = wildcard[m[1] ?? m[2]] ?? m[1] ?? m[2];
const request = http.get({ host, port: Number(m[3]), path: "/healthz", timeout: TIMEOUT_MS }, (res) => {
  res.resume();
  if (res.statusCode === 200) {
    process.stdout.write(`healthcheck: /healthz ${res.statusCode}\n`);
    process.exit(0);
  }
  fail(`/healthz answered ${res.statusCode}`);
});
request.on("timeout", () => request.destroy(new Error(`no answer within ${TIMEOUT_MS} ms`)));
request.on("error", (err) => fail(`/healthz on ${host}:${m[3]}: ${err.message}`));
