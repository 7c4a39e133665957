// trip.mjs — the function a front end calls to book a trip: it starts the
// trip-booking saga in baton through the REST API and answers at once.
//
//   node trip.mjs      PORT (default 8082), BATON_URL (http://127.0.0.1:8080),
//                      FUNCTIONS_URL (http://127.0.0.1:8081), PROCESS_ID
//                      (trip-booking-http), BATON_TOKEN (optional bearer token)
//
//   PUT /trip/book {tripId, traveller, destination, startDate, endDate, simulate?}
//       → 202 {tripId, processInstanceKey}
//   GET /trip/<tripId>  → 200 {tripId, processInstanceKey, state, hasIncident}
//
// The trip id is the instance's businessId: booking the same trip again
// answers the instance already started, never a second one.
import { createServer } from 'node:http';

const BATON_URL = process.env.BATON_URL ?? 'http://127.0.0.1:8080';
const FUNCTIONS_URL = process.env.FUNCTIONS_URL ?? 'http://127.0.0.1:8081';
const PROCESS_ID = process.env.PROCESS_ID ?? 'trip-booking-http';

async function baton(path, body) {
  const headers = { 'Content-Type': 'application/json' };
  if (process.env.BATON_TOKEN) headers.Authorization = `Bearer ${process.env.BATON_TOKEN}`;
  const res = await fetch(BATON_URL + path, { method: 'POST', headers, body: JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

async function findTrip(tripId) {
  const found = await baton('/v2/process-instances/search', {
    filter: { processDefinitionId: PROCESS_ID, businessId: tripId },
    sort: [{ field: 'startDate', order: 'DESC' }],
    page: { limit: 1 },
  });
  if (found.status !== 200) throw new Error(`search answered ${found.status}: ${JSON.stringify(found.body)}`);
  return found.body.items[0] ?? null;
}

// Requests for the same trip are handled one after the other, so that the
// second finds the instance the first started (even one that has ended).
const queues = new Map(); // tripId → the last request's promise
function oneAtATime(tripId, fn) {
  const run = (queues.get(tripId) ?? Promise.resolve()).then(fn, fn);
  const done = () => queues.get(tripId) === run && queues.delete(tripId);
  queues.set(tripId, run);
  run.then(done, done);
  return run;
}

async function bookTrip(trip) {
  const existing = await findTrip(trip.tripId);
  if (existing) return [202, { tripId: trip.tripId, processInstanceKey: existing.processInstanceKey }];
  const started = await baton('/v2/process-instances', {
    processDefinitionId: PROCESS_ID,
    businessId: trip.tripId,
    variables: { ...trip, functionsUrl: FUNCTIONS_URL },
  });
  if (started.status === 200)
    return [202, { tripId: trip.tripId, processInstanceKey: started.body.processInstanceKey }];
  if (started.status === 409) {
    // Started at the same moment by another copy of this function: answer that one.
    const raced = await findTrip(trip.tripId);
    if (raced) return [202, { tripId: trip.tripId, processInstanceKey: raced.processInstanceKey }];
  }
  return [502, { message: `baton answered ${started.status}`, detail: started.body }];
}

const server = createServer(async (req, res) => {
  let status = 404, answer = { message: `no route ${req.method} ${req.url}` };
  try {
    const tripPath = req.url.match(/^\/trip\/([^/?]+)$/);
    if (req.method === 'PUT' && req.url === '/trip/book') {
      let text = '';
      for await (const chunk of req) text += chunk;
      const trip = JSON.parse(text || '{}');
      if (typeof trip?.tripId !== 'string' || !trip.tripId)
        [status, answer] = [400, { message: 'tripId (a string) is required' }];
      else [status, answer] = await oneAtATime(trip.tripId, () => bookTrip(trip));
    } else if (req.method === 'GET' && tripPath) {
      const tripId = decodeURIComponent(tripPath[1]);
      const found = await findTrip(tripId);
      if (found) {
        const { processInstanceKey, state, hasIncident, startDate, endDate } = found;
        [status, answer] = [200, { tripId, processInstanceKey, state, hasIncident, startDate, endDate }];
      } else [status, answer] = [404, { message: `no trip ${tripId}` }];
    }
  } catch (e) {
    [status, answer] = [e instanceof SyntaxError ? 400 : 502, { message: e.message }];
  }
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(answer));
});

const port = Number(process.env.PORT ?? 8082);
server.listen(port, process.env.HOST ?? '127.0.0.1', () => {
  console.log(`trip function listening on http://${process.env.HOST ?? '127.0.0.1'}:${server.address().port}`);
});
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => process.exit(0));
