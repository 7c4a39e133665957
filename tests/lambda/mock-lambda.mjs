// mock-lambda.mjs — a local stand-in for AWS Lambda's Invoke API
// (POST /2015-03-31/functions/{FunctionName}/invocations[?Qualifier=...]) for
// the end-to-end test of baton's Lambda invoker (lambda.test.mjs).
//
// It checks every request's AWS Signature Version 4 itself, recomputed with
// node:crypto from the credentials it was started with — an implementation
// independent of baton's src/runtime/sigv4.c — and answers 403
// InvalidSignatureException (as Lambda does) when the signature, the key id,
// the credential scope or the session token do not match. Every request is
// recorded in `calls`.
//
// Functions, by name (the last part of an ARN):
//   hello      returns {greeting: "hello <name>", orderId, qualifier}
//   declines   fails: X-Amz-Function-Error: Unhandled, errorType PaymentDeclined
//   crashes    fails: X-Amz-Function-Error: Unhandled, errorType TypeError
//   throttled  429 TooManyRequestsException on the first call of each
//              Idempotency-Key, then like hello
//   other      404 ResourceNotFoundException
// An Event invocation of an existing function answers 202 with no body.

import http from 'node:http';
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

const INVOKE_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;
const AUTHORIZATION =
  /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/;
const MAX_SKEW_MS = 5 * 60 * 1000;

const sha256 = (data) => createHash('sha256').update(data).digest('hex');
const hmac = (key, data) => createHmac('sha256', key).update(data, 'utf8').digest();

/** RFC 3986 encoding: everything but A-Z a-z 0-9 - . _ ~ as %XX. */
function uriEncode(s) {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

/**
 * The canonical request of an incoming request, by the SigV4 rules for a
 * service other than S3: each path segment as received encoded once more,
 * the query decoded, re-encoded and sorted, the signed headers' values
 * trimmed with inner runs of white space folded.
 */
function canonicalRequest(req, rawPath, rawQuery, signedHeaders, body) {
  const path = rawPath.split('/').map(uriEncode).join('/');
  const query = rawQuery
    ? rawQuery
        .split('&')
        .filter((p) => p)
        .map((p) => {
          const i = p.indexOf('=');
          const [k, v] = i < 0 ? [p, ''] : [p.slice(0, i), p.slice(i + 1)];
          return [uriEncode(decodeURIComponent(k)), uriEncode(decodeURIComponent(v))];
        })
        .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
        .map(([k, v]) => `${k}=${v}`)
        .join('&')
    : '';
  const headers = signedHeaders
    .map((name) => {
      const values = req.headersDistinct[name] ?? [];
      return `${name}:${values.map((v) => v.trim().replace(/\s+/g, ' ')).join(',')}\n`;
    })
    .join('');
  return [req.method, path, query, headers, signedHeaders.join(';'), sha256(body)].join('\n');
}

/**
 * Checks a request's signature. Returns null when it is right, else why not.
 */
function verify(req, rawPath, rawQuery, body, creds, now) {
  const m = AUTHORIZATION.exec(req.headers.authorization ?? '');
  if (!m) return 'no AWS4-HMAC-SHA256 Authorization header';
  const [, keyId, date, region, service, signedList, signature] = m;
  if (keyId !== creds.accessKeyId) return `unknown access key ${keyId}`;
  if (region !== creds.region || service !== 'lambda') return `credential scope ${region}/${service}`;
  const amzDate = req.headers['x-amz-date'] ?? '';
  const t = /^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/.exec(amzDate);
  if (!t || amzDate.slice(0, 8) !== date) return `x-amz-date ${amzDate} does not match the scope ${date}`;
  const when = Date.UTC(+t[1], +t[2] - 1, +t[3], +t[4], +t[5], +t[6]);
  if (Math.abs(now - when) > MAX_SKEW_MS) return `x-amz-date ${amzDate} is too far from now`;
  const signedHeaders = signedList.split(';');
  const sorted = [...signedHeaders].sort();
  if (signedHeaders.some((h, i) => h !== sorted[i])) return 'SignedHeaders are not sorted';
  for (const required of ['host', 'x-amz-date'])
    if (!signedHeaders.includes(required)) return `${required} is not signed`;
  if (creds.sessionToken) {
    if (!signedHeaders.includes('x-amz-security-token')) return 'x-amz-security-token is not signed';
    if (req.headers['x-amz-security-token'] !== creds.sessionToken) return 'wrong session token';
  }
  const creq = canonicalRequest(req, rawPath, rawQuery, signedHeaders, body);
  const sts = ['AWS4-HMAC-SHA256', amzDate, `${date}/${region}/${service}/aws4_request`, sha256(creq)].join('\n');
  let key = hmac('AWS4' + creds.secretAccessKey, date);
  for (const part of [region, service, 'aws4_request']) key = hmac(key, part);
  const expected = createHmac('sha256', key).update(sts, 'utf8').digest();
  const got = Buffer.from(signature, 'hex');
  if (got.length !== expected.length || !timingSafeEqual(got, expected))
    return 'The request signature we calculated does not match the signature you provided.';
  return null;
}

/** The bare name of a FunctionName (name, name:qualifier, partial or full ARN). */
function bareName(fn) {
  const parts = fn.split(':');
  if (parts[0] === 'arn') return parts[6];
  if (parts[1] === 'function') return parts[2];
  return parts[0];
}

function send(res, status, body, headers = {}) {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'x-amzn-RequestId': 'mock', ...headers });
  res.end(text);
}

/**
 * Starts the mock on 127.0.0.1 (a free port). creds: {accessKeyId,
 * secretAccessKey, sessionToken?, region}. Resolves to {url, calls, close()}.
 * Each call: {functionName, name, qualifier, invocationType, idempotencyKey,
 * payload, signatureError, status}.
 */
export async function startMockLambda(creds) {
  const calls = [];
  const throttledOnce = new Set();
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const q = req.url.indexOf('?');
      const rawPath = q < 0 ? req.url : req.url.slice(0, q);
      const rawQuery = q < 0 ? '' : req.url.slice(q + 1);
      const call = {
        functionName: null,
        name: null,
        qualifier: null,
        invocationType: req.headers['x-amz-invocation-type'] ?? null,
        idempotencyKey: req.headers['idempotency-key'] ?? null,
        payload: null,
        signatureError: null,
        status: 0,
      };
      calls.push(call);
      try {
        call.payload = JSON.parse(body.toString('utf8')); // recorded even when the signature is bad
      } catch {
        call.payload = null;
      }
      const reply = (status, json, headers) => {
        call.status = status;
        send(res, status, json, headers);
      };
      const m = req.method === 'POST' ? INVOKE_PATH.exec(rawPath) : null;
      if (!m) return reply(404, { message: `no route ${req.method} ${rawPath}` }, { 'X-Amzn-ErrorType': 'UnknownOperationException' });
      try {
        call.signatureError = verify(req, rawPath, rawQuery, body, creds, Date.now());
        call.functionName = decodeURIComponent(m[1]);
        call.qualifier = new URLSearchParams(rawQuery).get('Qualifier');
      } catch (e) {
        call.signatureError = `malformed request: ${e.message}`;
      }
      if (call.signatureError)
        return reply(403, { message: call.signatureError }, { 'X-Amzn-ErrorType': 'InvalidSignatureException' });
      if (call.payload === null)
        return reply(400, { Type: 'User', message: 'Could not parse request body into json' }, { 'X-Amzn-ErrorType': 'InvalidRequestContentException' });
      const name = (call.name = bareName(call.functionName));
      if (!['hello', 'declines', 'crashes', 'throttled'].includes(name))
        return reply(404, { Type: 'User', message: `Function not found: ${call.functionName}` }, { 'X-Amzn-ErrorType': 'ResourceNotFoundException' });
      if (name === 'throttled' && !throttledOnce.has(call.idempotencyKey)) {
        throttledOnce.add(call.idempotencyKey);
        return reply(429, { Reason: 'ReservedFunctionConcurrentInvocationLimitExceeded', Type: 'User', message: 'Rate Exceeded.' },
          { 'X-Amzn-ErrorType': 'TooManyRequestsException' });
      }
      if (call.invocationType === 'Event') return reply(202, undefined);
      const event = call.payload ?? {};
      const version = { 'X-Amz-Executed-Version': call.qualifier ?? '$LATEST' };
      if (name === 'declines')
        return reply(200, { errorType: 'PaymentDeclined', errorMessage: `card declined for order ${event.orderId}`, trace: [] },
          { ...version, 'X-Amz-Function-Error': 'Unhandled' });
      if (name === 'crashes')
        return reply(200, { errorType: 'TypeError', errorMessage: "Cannot read properties of undefined (reading 'total')", trace: [] },
          { ...version, 'X-Amz-Function-Error': 'Unhandled' });
      return reply(200, { greeting: `hello ${event.name}`, orderId: event.orderId, qualifier: call.qualifier }, version);
    });
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    close: () =>
      new Promise((resolve) => {
        server.close(resolve);
        server.closeAllConnections();
      }),
  };
}
