// Copyright OpenDcc contributors. Licensed under the Apache License, Version 2.0.
//
// Parses one DUIS message (request or response) read from stdin with @smartdcc/duis-parser, the parser the public
// DCC Boxed tooling uses, and prints the result as JSON. The parser is installed at test time (npm ci); set
// NODE_PATH to the node_modules folder when this script does not sit under it.
//
// Usage: node parse.js [simplified|normal] < message.xml
//        node parse.js batch < messages.json   (a JSON array of XML strings; prints an array of
//                                               {"ok":true,"parsed":…} or {"ok":false,"error":"…"}, one per message)
// Exit codes: 0 parsed (JSON on stdout), 1 the parser refused the message (its reason on stderr), 2 bad usage.
'use strict';

const { parseDuis } = require('@smartdcc/duis-parser');

const mode = process.argv[2] ?? 'simplified';
if (mode !== 'simplified' && mode !== 'normal' && mode !== 'batch') {
  process.stderr.write(`parse.js: mode must be simplified, normal or batch, not '${mode}'\n`);
  process.exit(2);
}

const chunks = [];
process.stdin.on('data', (chunk) => chunks.push(chunk));
const toJson = (value) => JSON.stringify(value, (_, v) => (typeof v === 'bigint' ? v.toString() : v));

process.stdin.on('end', () => {
  if (mode === 'batch') {
    const results = JSON.parse(Buffer.concat(chunks).toString('utf8')).map((xml) => {
      try {
        return { ok: true, parsed: parseDuis('simplified', xml) };
      } catch (e) {
        return { ok: false, error: e instanceof Error ? e.message : String(e) };
      }
    });
    process.stdout.write(toJson(results));
    process.stdout.write('\n');
    return;
  }
  let parsed;
  try {
    parsed = parseDuis(mode, Buffer.concat(chunks));
  } catch (e) {
    process.stderr.write(`parse.js: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  }
  // The parser returns RequestID counters as BigInt, which JSON has no form for: write them as decimal strings.
  process.stdout.write(toJson(parsed));
  process.stdout.write('\n');
});
