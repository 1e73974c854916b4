// The PouchDB side of the NDJSON replication benchmark (replicate/
// ndjson_bench_test.go, docs/performance.md): the same records, a village
// PouchDB on disk pushing to a town's CouchDB-protocol server (PouchDB
// behind express-pouchdb), both on this machine, as a town's IT staff
// would set them up. PouchDB is installed at test time, never committed.
//
//   node pouchdb_bench.js town PORT DIR            serve a town database
//   node pouchdb_bench.js village NDJSON DIR URL   load, then push to URL
//
// The village prints one JSON line: docs, load_ms, ms (the push from its
// start to complete), bytes (both ways, counted by a proxy before the town),
// town_cpu_ms and village_cpu_ms (CPU time of each process during the push).
'use strict';
const fs = require('fs');
const net = require('net');
const path = require('path');
const readline = require('readline');

const PouchDB = require('pouchdb-node');

async function town(port, dir) {
  const express = require('express');
  const app = express();
  const DB = PouchDB.defaults({ prefix: path.join(dir, '/') });
  // The server's CPU time so far (user + system, ms), for the comparison.
  app.get('/_cpu', (req, res) => { const u = process.cpuUsage(); res.json({ ms: (u.user + u.system) / 1000 }); });
  app.use('/', require('express-pouchdb')(DB, { mode: 'minimumForPouchDB', logPath: path.join(dir, 'log.txt') }));
  const srv = app.listen(port, '127.0.0.1', () => console.log('serving ' + port));
  process.on('SIGTERM', () => srv.close(() => process.exit(0)));
}

// proxy forwards 127.0.0.1:0 to the town and counts the bytes both ways.
function proxy(target) {
  const u = new URL(target);
  let bytes = 0;
  const srv = net.createServer((c) => {
    const up = net.connect(Number(u.port), u.hostname);
    c.on('data', (d) => { bytes += d.length; up.write(d); });
    up.on('data', (d) => { bytes += d.length; c.write(d); });
    c.on('end', () => up.end());
    up.on('end', () => c.end());
    c.on('error', () => up.destroy());
    up.on('error', () => c.destroy());
  });
  return new Promise((resolve) => srv.listen(0, '127.0.0.1', () => resolve({ srv, port: srv.address().port, bytes: () => bytes })));
}

async function village(ndjson, dir, url) {
  const db = new PouchDB(path.join(dir, 'village'));
  const t0 = Date.now();
  let batch = [];
  let docs = 0;
  const rl = readline.createInterface({ input: fs.createReadStream(ndjson), crlfDelay: Infinity });
  for await (const line of rl) {
    if (!line.trim()) continue;
    const doc = JSON.parse(line);
    if (doc._id === undefined) doc._id = String(docs).padStart(8, '0');
    doc._id = String(doc._id);
    batch.push(doc);
    docs++;
    if (batch.length === 1000) { await db.bulkDocs(batch); batch = []; }
  }
  if (batch.length) await db.bulkDocs(batch);
  const loadMs = Date.now() - t0;
  const p = await proxy(url);
  const remote = new PouchDB('http://127.0.0.1:' + p.port + new URL(url).pathname);
  const townCPU = async () => (await (await fetch(new URL('/_cpu', url))).json()).ms;
  const town0 = await townCPU();
  const cpu0 = process.cpuUsage();
  const t1 = Date.now();
  const res = await PouchDB.replicate(db, remote);
  const ms = Date.now() - t1;
  const cpu = process.cpuUsage(cpu0);
  const villageCPU = (cpu.user + cpu.system) / 1000;
  const townCPUMs = (await townCPU()) - town0;
  const info = await remote.info();
  console.log(JSON.stringify({ docs, written: res.docs_written, town_docs: info.doc_count, load_ms: loadMs, ms, bytes: p.bytes(), town_cpu_ms: Math.round(townCPUMs), village_cpu_ms: Math.round(villageCPU) }));
  p.srv.close();
  await db.close();
}

const [mode, a, b, c] = process.argv.slice(2);
(mode === 'town' ? town(Number(a), b) : village(a, b, c)).catch((e) => { console.error(e); process.exit(1); });
