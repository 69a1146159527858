// Copyright OpenDcc contributors. Licensed under the Apache License, Version 2.0.
//
// Parses one DUIS message (request or response) read from stdin with @smartdcc/duis-parser, the parser the public
// DCC Boxed tooling uses, and prints the result as JSON. The parser is installed at test time (npm ci); set
// NODE_PATH to the node_modules folder when this script does not sit under it.
//
// Usage: node parse.js [simplified|normal] < message.xml
// Exit codes: 0 parsed (JSON on stdout), 1 the parser refused the message (its reason on stderr), 2 bad usage.
'use strict';

const { parseDuis } = require('@smartdcc/duis-parser');

const mode = process.argv[2] ?? 'simplified';
if (mode !== 'simplified' && mode !== 'normal') {
  process.stderr.write(`parse.js: mode must be simplified or normal, not '${mode}'\n`);
  process.exit(2);
}

const chunks = [];
process.stdin.on('data', (chunk) => chunks.push(chunk));
process.stdin.on('end', () => {
  let parsed;
  try {
    parsed = parseDuis(mode, Buffer.concat(chunks));
  } catch (e) {
    process.stderr.write(`parse.js: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  }
  // The parser returns RequestID counters as BigInt, which JSON has no form for: write them as decimal strings.
  process.stdout.write(JSON.stringify(parsed, (_, v) => (typeof v === 'bigint' ? v.toString() : v)));
  process.stdout.write('\n');
});
