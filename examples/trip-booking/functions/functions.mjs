// functions.mjs — the trip's functions: book and cancel a hotel, a car and a
// flight, as one small HTTP service (Node, standard library only).
//
//   node functions.mjs            PORT (default 8081), HOST (default 127.0.0.1)
//
//   POST /hotel/book   /car/book   /flight/book     {tripId, ...}  → 201 {bookingId, ...}
//   POST /hotel/cancel /car/cancel /flight/cancel   {bookingId} or {tripId} → 200
//   GET  /bookings[?tripId=...]    every booking and every call, for you and the tests
//
// Bookings are recorded by the request's Idempotency-Key (baton sends the
// job key, the same on every retry): a retried booking answers the booking
// it already made and never books twice. Cancelling is idempotent too, and
// cancelling something never booked is fine (there is nothing to undo).
//
// Failure injection, per request, in the query string (or the body):
//   fail=always     answer 500, every time, and do nothing
//   fail=sold-out   answer 409 {"message": "... sold out"}: a business "no"
//   fail=N          the first N calls with this Idempotency-Key do the work
//                   but answer 503, as if the answer got lost on the way
//   slowMs=N        wait N ms before doing anything
import { createServer } from 'node:http';
import { randomUUID } from 'node:crypto';

const bookings = new Map(); // bookingId → {bookingId, kind, tripId, idempotencyKey, status, request}
const byIdempotencyKey = new Map(); // "kind key" → booking
const calls = []; // {seq, at, path, idempotencyKey, tripId, bookingId, status}
const attempts = new Map(); // "path key" → calls so far

function book(kind, req, body) {
  const key = req.headers['idempotency-key'];
  const known = key && byIdempotencyKey.get(`${kind} ${key}`);
  if (known) return [200, known];
  const booking = {
    bookingId: `${kind}-${randomUUID().slice(0, 8)}`,
    kind,
    tripId: body.tripId ?? null,
    idempotencyKey: key ?? null,
    status: 'booked',
    request: body,
  };
  bookings.set(booking.bookingId, booking);
  if (key) byIdempotencyKey.set(`${kind} ${key}`, booking);
  return [201, booking];
}

function cancel(kind, req, body) {
  const mine = body.bookingId
    ? [bookings.get(body.bookingId)].filter((b) => b?.kind === kind)
    : [...bookings.values()].filter((b) => b.kind === kind && b.tripId === body.tripId);
  for (const b of mine) b.status = 'cancelled';
  return [200, { cancelled: mine.map((b) => b.bookingId) }];
}

const routes = {
  'POST /hotel/book': (req, body) => book('hotel', req, body),
  'POST /car/book': (req, body) => book('car', req, body),
  'POST /flight/book': (req, body) => book('flight', req, body),
  'POST /hotel/cancel': (req, body) => cancel('hotel', req, body),
  'POST /car/cancel': (req, body) => cancel('car', req, body),
  'POST /flight/cancel': (req, body) => cancel('flight', req, body),
  'GET /bookings': (req, body, query) => {
    const trip = query.get('tripId');
    const mine = (x) => !trip || x.tripId === trip;
    return [200, { bookings: [...bookings.values()].filter(mine), calls: calls.filter(mine) }];
  },
};

// Failure injection: failBefore answers instead of doing the work,
// failAfter replaces the answer of work done.
async function failBefore(path, body, query) {
  const fail = query.get('fail') ?? body.fail;
  const slowMs = Number(query.get('slowMs') ?? body.slowMs ?? 0);
  if (slowMs > 0) await new Promise((resolve) => setTimeout(resolve, slowMs));
  if (fail === 'always') return [500, { message: `${path} is failing (fail=always)` }];
  if (fail === 'sold-out') return [409, { message: `${path.split('/')[1]} sold out` }];
  return null;
}

function failAfter(path, req, body, query) {
  const fail = Number(query.get('fail') ?? body.fail);
  const key = `${path} ${req.headers['idempotency-key']}`;
  const attempt = (attempts.get(key) ?? 0) + 1;
  attempts.set(key, attempt);
  if (fail >= attempt) return [503, { message: `${path}: the answer to call ${attempt} of ${fail} got lost` }];
  return null;
}

const server = createServer(async (req, res) => {
  const url = new URL(req.url, 'http://localhost');
  const route = routes[`${req.method} ${url.pathname}`];
  let status = 404, answer = { message: `no route ${req.method} ${url.pathname}` };
  let body = {};
  try {
    let text = '';
    for await (const chunk of req) text += chunk;
    const parsed = text ? JSON.parse(text) : {};
    body = parsed && typeof parsed === 'object' ? parsed : {};
    if (route && req.method === 'GET') [status, answer] = await route(req, body, url.searchParams);
    else if (route) {
      [status, answer] =
        (await failBefore(url.pathname, body, url.searchParams)) ?? (await route(req, body, url.searchParams));
      if (status < 300) [status, answer] = failAfter(url.pathname, req, body, url.searchParams) ?? [status, answer];
    }
  } catch (e) {
    [status, answer] = [400, { message: `bad request: ${e.message}` }];
  }
  if (req.method === 'POST') {
    calls.push({
      seq: calls.length + 1,
      at: performance.now(),
      path: url.pathname,
      idempotencyKey: req.headers['idempotency-key'] ?? null,
      tripId: body.tripId ?? null,
      bookingId: body.bookingId ?? answer.bookingId ?? null,
      status,
    });
    if (process.env.QUIET !== '1')
      console.log(`${req.method} ${url.pathname} trip=${body.tripId ?? '-'} key=${req.headers['idempotency-key'] ?? '-'} → ${status}`);
  }
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(answer));
});

const port = Number(process.env.PORT ?? 8081);
server.listen(port, process.env.HOST ?? '127.0.0.1', () => {
  console.log(`functions listening on http://${process.env.HOST ?? '127.0.0.1'}:${server.address().port}`);
});
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => process.exit(0));
