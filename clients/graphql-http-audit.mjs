// The GraphQL-over-HTTP audit (graphql-http's serverAudits) against a running server:
//
//     node clients/graphql-http-audit.mjs http://127.0.0.1:8080/graphql
//
// Prints one line per audit and, last, a JSON summary {"ok": n, "notice": n, "warn": n,
// "error": n}; exits 1 unless every audit is ok. tests/test_graphql_http_audit.py
// starts the server and runs this.
//
// Every audit of the pinned version applies to this server, so none is excused:
// batching has no audit (the server refuses batches with a GraphQL error body, see
// graphql_request.py), and the audits that ask for `__type` need introspection,
// which is why the test audits a server in local mode (production turns
// introspection off; the transport under audit is the same code).
import { serverAudits } from 'graphql-http';

const url = process.argv[2];
if (!url) {
  console.error('usage: node graphql-http-audit.mjs <url of the GraphQL endpoint>');
  process.exit(2);
}

const counts = { ok: 0, notice: 0, warn: 0, error: 0 };
for (const audit of serverAudits({ url })) {
  const result = await audit.fn(); // one at a time: a small server, a readable log
  counts[result.status] += 1;
  const reason = result.status === 'ok' ? '' : `: ${result.reason}`;
  console.log(`${result.status.padEnd(6)} ${result.id} ${result.name}${reason}`);
}
console.log(JSON.stringify(counts));
process.exit(counts.ok === Object.values(counts).reduce((a, b) => a + b) ? 0 : 1);
