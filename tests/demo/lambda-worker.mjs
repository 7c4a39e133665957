// lambda-worker.mjs — runs the jobs of the seed's Zeebe model (job type
// `lambda`, the function to call in the header functionName) against the
// local functions of examples/trip-booking/functions, under `baton worker`:
//
//   FUNCTIONS_URL=http://127.0.0.1:8081 \
//     baton worker --type lambda -- node tests/demo/lambda-worker.mjs
//
// stdin: the job's variables; env: BATON_JOB_KEY (sent as Idempotency-Key),
// BATON_HEADER_FUNCTIONNAME (e.g. trip-booking-functions-dev-book-hotel),
// BATON_HEADER_RESULTNAME (e.g. bookHotelResult). stdout: {<resultName>:
// {success}}, what the model's gateways test. A variable book<Kind>Failure
// = "true" (the seed's zeebe_request.json) makes that booking sold out.
let input = '';
for await (const chunk of process.stdin) input += chunk;
const vars = JSON.parse(input || '{}');
const env = process.env;

const [, action, kind] = env.BATON_HEADER_FUNCTIONNAME.match(/(book|cancel)-(hotel|car|flight)$/) ?? [];
if (!action) {
  console.error(`unknown function ${env.BATON_HEADER_FUNCTIONNAME}`);
  process.exit(1);
}
const failure = `book${kind[0].toUpperCase()}${kind.slice(1)}Failure`;
const soldOut = action === 'book' && String(vars[failure]) === 'true';
const url = `${env.FUNCTIONS_URL}/${kind}/${action}${soldOut ? '?fail=sold-out' : ''}`;

const res = await fetch(url, {
  method: 'POST',
  headers: { 'Content-Type': 'application/json', 'Idempotency-Key': env.BATON_JOB_KEY },
  body: JSON.stringify({ tripId: vars.tripId ?? `instance-${env.BATON_PROCESS_INSTANCE_KEY}` }),
});
if (res.status >= 500) {
  console.error(`${url} answered ${res.status}: ${await res.text()}`);
  process.exit(1); // a technical failure: the job is retried
}
const result = env.BATON_HEADER_RESULTNAME ? { [env.BATON_HEADER_RESULTNAME]: { success: res.ok } } : {};
process.stdout.write(JSON.stringify(result));
