#!/usr/bin/env node
// check.mjs: checks proto/openapi.yaml and, optionally, recorded HTTP exchanges
// against it.
//
//   node tests/openapi/check.mjs proto/openapi.yaml [exchanges.jsonl]
//
// Test 1 validates the document: OpenAPI 3.0 structure and $refs
// (swagger-parser), plus this project's rules: every operation has an
// operationId, a summary and one known tag; every response documents
// X-Request-Id, every 429 Retry-After; an authenticated operation's errors use
// the shared Error schema; every object in a response schema is closed
// (additionalProperties: false) so that fields the code adds without the spec
// are caught; every schema compiles.
//
// Then each line of exchanges.jsonl ({method, path, status, content_type,
// body}, written by tests/lib/e2e.c with COAL_E2E_RECORD set) is one test: its
// operation is found by method and templated path (query string ignored), the
// spec must document its status (an undocumented status is drift), the content
// type's family must match, and the body must validate against the schema (a
// response without content must have no body). A text/csv body (recorded as
// "text") must be RFC 4180 with every row as wide as the header, and its columns
// must be fields of the list items of the same response's JSON schema; other
// text bodies are not parsed. A
// request to a route the spec does not have must have been answered 404 with
// the Error schema, as the gateway does for unknown routes.
//
// Failures print method, path, status, the schema errors and a body excerpt.
// The last line is "N passed, M failed"; the exit status is 1 when M > 0.
import fs from 'node:fs';
import SwaggerParser from '@apidevtools/swagger-parser';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';

const TAGS = new Set(['admin', 'partner', 'app', 'finance', 'health']);
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const EXCERPT = 300;

let passed = 0;
let failed = 0;

function fail(title, details = []) {
  failed++;
  console.log(`FAIL ${title}`);
  for (const d of details) console.log(`     ${d}`);
}

function excerpt(body) {
  if (body === undefined) return '(no body recorded)';
  const s = JSON.stringify(body);
  return s.length > EXCERPT ? `${s.slice(0, EXCERPT)}...` : s;
}

function finish() {
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed > 0 ? 1 : 0);
}

const [specPath, exchangesPath] = process.argv.slice(2);
if (!specPath) {
  console.error('usage: node tests/openapi/check.mjs proto/openapi.yaml [exchanges.jsonl]');
  fail('usage: no OpenAPI document given');
  finish();
}

// OpenAPI 3.0 Schema Objects are a JSON Schema dialect: Ajv understands
// `nullable`; the OpenAPI-only annotations are declared as keywords.
const ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false, strictTuples: false });
addFormats(ajv);
ajv.addVocabulary(['example', 'xml', 'externalDocs', 'discriminator']);

const validators = new Map(); // schema object (dereferenced) -> compiled function
function validatorFor(schema) {
  let v = validators.get(schema);
  if (!v) {
    v = ajv.compile(schema);
    validators.set(schema, v);
  }
  return v;
}

function operations(api) {
  const ops = [];
  for (const [template, item] of Object.entries(api.paths || {})) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      const names = [];
      const re = template
        .split(/(\{[^}]+\})/)
        .map((part) => {
          const m = /^\{([^}]+)\}$/.exec(part);
          if (m) {
            names.push(m[1]);
            return '([^/]+)';
          }
          return part.replace(/[.*+?^$()|[\]\\]/g, '\\$&');
        })
        .join('');
      ops.push({ method: method.toUpperCase(), template, op, regex: new RegExp(`^${re}$`), params: names.length });
    }
  }
  // A literal path wins over a template that also matches it.
  ops.sort((a, b) => a.params - b.params);
  return ops;
}

function mediaFamily(type) {
  return String(type || '').split(';')[0].trim().toLowerCase();
}

function isJson(family) {
  return family === 'application/json' || family.endsWith('+json');
}

function mediaMatches(key, family) {
  const k = mediaFamily(key);
  if (k === '*/*' || k === family) return true;
  return k.endsWith('/*') && family.startsWith(k.slice(0, -1));
}

// Walks a (dereferenced) schema; reports objects that are not closed.
function openObjects(schema, where, out, seen = new Set()) {
  if (!schema || typeof schema !== 'object' || seen.has(schema)) return;
  seen.add(schema);
  const isObject = schema.type === 'object' || schema.properties !== undefined;
  if (isObject && schema.additionalProperties !== false &&
      typeof schema.additionalProperties !== 'object') {
    out.push(`${where}: an object without additionalProperties: false`);
  }
  for (const [name, sub] of Object.entries(schema.properties || {}))
    openObjects(sub, `${where}.${name}`, out, seen);
  if (typeof schema.additionalProperties === 'object')
    openObjects(schema.additionalProperties, `${where}.*`, out, seen);
  if (schema.items) openObjects(schema.items, `${where}[]`, out, seen);
  for (const k of ['allOf', 'anyOf', 'oneOf'])
    for (const [i, sub] of (schema[k] || []).entries()) openObjects(sub, `${where}.${k}[${i}]`, out, seen);
}

function lint(api) {
  const problems = [];
  const errorSchema = api.components?.schemas?.Error;
  if (!errorSchema) problems.push('components.schemas.Error is missing');
  const ids = new Set();
  for (const { method, template, op } of operations(api)) {
    const name = `${method} ${template}`;
    if (!op.operationId) problems.push(`${name}: no operationId`);
    else if (ids.has(op.operationId)) problems.push(`${name}: operationId ${op.operationId} is used twice`);
    ids.add(op.operationId);
    if (!op.summary) problems.push(`${name}: no summary`);
    if (!Array.isArray(op.tags) || op.tags.length !== 1 || !TAGS.has(op.tags[0]))
      problems.push(`${name}: tags must be one of ${[...TAGS].join(', ')}`);
    const security = op.security ?? api.security ?? [];
    const authenticated = security.length > 0;
    for (const [status, resp] of Object.entries(op.responses || {})) {
      const where = `${name} ${status}`;
      if (!resp.headers?.['X-Request-Id']) problems.push(`${where}: no X-Request-Id header`);
      if (status === '429' && !resp.headers?.['Retry-After']) problems.push(`${where}: no Retry-After header`);
      if (status === '204' && resp.content) problems.push(`${where}: a 204 has no content`);
      for (const [type, media] of Object.entries(resp.content || {})) {
        if (!media.schema) {
          problems.push(`${where} ${type}: no schema`);
          continue;
        }
        if (isJson(mediaFamily(type))) {
          openObjects(media.schema, `${where} ${type}`, problems);
          if (authenticated && Number(status) >= 400 && media.schema !== errorSchema)
            problems.push(`${where}: an error response must use the Error schema`);
        }
        try {
          validatorFor(media.schema);
        } catch (e) {
          problems.push(`${where} ${type}: the schema does not compile: ${e.message}`);
        }
      }
    }
  }
  return problems;
}

// ---- test 1: the document ------------------------------------------------------------

let api = null;
const problems = [];
try {
  api = await SwaggerParser.validate(specPath);
} catch (e) {
  problems.push(...String(e.message).split('\n').map((l) => l.trim()).filter(Boolean).slice(0, 20));
  try {
    api = await SwaggerParser.dereference(specPath); // lint and check the exchanges all the same
  } catch {
    api = null;
  }
}
if (api && !String(api.openapi || '').startsWith('3.0.')) {
  problems.push(`openapi must be 3.0.x, not ${api.openapi}`);
  api = null;
}
if (api) problems.push(...lint(api));
if (problems.length) fail(`${specPath}: the document is not valid`, problems);
else passed++;
if (!api) finish();

// ---- one test per recorded exchange ------------------------------------------------

const ops = operations(api);
const unknownRoute = api.components?.responses?.NotFound;

function checkBody(title, status, resp, x) {
  const content = resp.content || {};
  const types = Object.keys(content);
  const family = mediaFamily(x.content_type);
  if (types.length === 0) {
    if (x.body !== null && x.body !== undefined || family)
      return fail(title, [`the spec documents no body for ${status}, got ${x.content_type || 'a body'}`, `body: ${excerpt(x.body)}`]);
    return passed++;
  }
  const key = types.find((t) => mediaMatches(t, family));
  if (!key)
    return fail(title, [`content type ${x.content_type || '(none)'} is not one of: ${types.join(', ')}`, `body: ${excerpt(x.body)}`]);
  if (family === 'text/csv') return checkCsv(title, content, x);
  if (!isJson(family)) return passed++; // text (e.g. /metrics): only its type is checked
  const schema = content[key].schema;
  if (!schema) return passed++;
  if (x.body === null || x.body === undefined)
    return fail(title, ['a JSON response without a (parseable) body']);
  let validate;
  try {
    validate = validatorFor(schema);
  } catch (e) {
    return fail(title, [`the schema does not compile: ${e.message}`]);
  }
  if (validate(x.body)) return passed++;
  const errs = validate.errors.slice(0, 10).map((e) => {
    const extra = e.params?.additionalProperty ? ` (${e.params.additionalProperty})`
      : e.params?.allowedValues ? ` (${e.params.allowedValues.join(', ')})` : '';
    return `${e.instancePath || '(body)'} ${e.message}${extra}`;
  });
  return fail(title, [...errs, `body: ${excerpt(x.body)}`]);
}

// Splits RFC 4180 text into records of cells; null when it is not well-formed
// (an unterminated quote, a bare CR, a quote inside an unquoted cell).
function parseCsv(text) {
  const records = [];
  let cells = [];
  let cell = '';
  let quoted = false;
  let wasQuoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') { cell += '"'; i++; }
      else if (ch === '"') quoted = false;
      else cell += ch;
      continue;
    }
    if (ch === '"') {
      if (cell !== '' || wasQuoted) return null;
      quoted = wasQuoted = true;
    } else if (ch === ',') {
      cells.push(cell); cell = ''; wasQuoted = false;
    } else if (ch === '\r') {
      if (text[i + 1] !== '\n') return null;
      cells.push(cell); records.push(cells);
      cells = []; cell = ''; wasQuoted = false; i++;
    } else if (ch === '\n') {
      return null;
    } else {
      if (wasQuoted) return null;
      cell += ch;
    }
  }
  if (quoted) return null;
  if (cell !== '' || cells.length) { cells.push(cell); records.push(cells); }
  return records;
}

// The names a CSV may use for the fields of an object schema: its properties,
// nested objects flattened as "parent.child" (services/gateway/gw_csv.h).
function csvColumns(schema, prefix = '', out = new Set()) {
  for (const s of [schema, ...(schema.allOf || [])]) {
    for (const [name, sub] of Object.entries(s.properties || {})) {
      const full = prefix ? `${prefix}.${name}` : name;
      if (sub.type === 'object' || sub.properties) csvColumns(sub, full, out);
      else out.add(full);
    }
  }
  return out;
}

// A CSV answer: well-formed RFC 4180, every record as wide as the header, and
// every column a field of the list items of the same response's JSON schema.
function checkCsv(title, content, x) {
  if (typeof x.text !== 'string') return passed++; // an empty list: an empty document
  const records = parseCsv(x.text);
  if (!records) return fail(title, ['the body is not RFC 4180 CSV', `body: ${excerpt(x.text)}`]);
  const [header, ...rows] = records;
  const bad = rows.findIndex((r) => r.length !== header.length);
  if (bad >= 0)
    return fail(title, [`row ${bad + 1} has ${rows[bad].length} cells, the header ${header.length}`]);
  const json = Object.entries(content).find(([t]) => isJson(mediaFamily(t)))?.[1]?.schema;
  // A reply of several shapes (oneOf, e.g. one statement or a list of them): the
  // lists of every shape.
  const lists = [json, ...(json?.oneOf || [])]
    .flatMap((s) => Object.values(s?.properties || {}))
    .filter((p) => p.type === 'array' && p.items);
  if (!lists.length) return fail(title, ['a CSV answer without a JSON list schema to check it against']);
  const known = new Set(lists.flatMap((l) => [...csvColumns(l.items)]));
  const unknown = header.filter((h) => !known.has(h));
  if (unknown.length) return fail(title, [`columns not in the JSON schema: ${unknown.join(', ')}`]);
  return passed++;
}

function checkExchange(x) {
  if (!x || typeof x.method !== 'string' || typeof x.path !== 'string' || !Number.isInteger(x.status))
    return fail('a recorded exchange without method, path and status', [excerpt(x)]);
  const method = x.method.toUpperCase();
  const path = x.path.split('?')[0].split('#')[0];
  const title = `${method} ${x.path} -> ${x.status}`;
  const match = ops.find((o) => o.method === method && o.regex.test(path));
  if (!match) {
    // The gateway answers 404 not_found to any route it does not serve.
    if (x.status === 404 && unknownRoute) return checkBody(`${title} (no such operation)`, 404, unknownRoute, x);
    return fail(`${title}`, [`no operation ${method} matches ${path} in the spec`, `body: ${excerpt(x.body)}`]);
  }
  match.seen = true;
  const responses = match.op.responses || {};
  const resp = responses[String(x.status)] ?? responses[`${String(x.status)[0]}XX`] ?? responses.default;
  if (!resp) {
    return fail(`${title} (${match.op.operationId})`, [
      `status ${x.status} is not documented for ${method} ${match.template} (documented: ${Object.keys(responses).join(', ')})`,
      `body: ${excerpt(x.body)}`,
    ]);
  }
  return checkBody(`${title} (${match.op.operationId})`, x.status, resp, x);
}

if (exchangesPath) {
  let lines = [];
  try {
    lines = fs.readFileSync(exchangesPath, 'utf8').split('\n').filter((l) => l.trim());
  } catch (e) {
    fail(`cannot read ${exchangesPath}: ${e.message}`);
  }
  for (const [i, line] of lines.entries()) {
    let x;
    try {
      x = JSON.parse(line);
    } catch (e) {
      fail(`${exchangesPath}:${i + 1}: not JSON (${e.message})`, [line.slice(0, EXCERPT)]);
      continue;
    }
    checkExchange(x);
  }
  const unseen = ops.filter((o) => !o.seen).map((o) => `${o.method} ${o.template}`);
  if (lines.length && unseen.length)
    console.log(`note: ${unseen.length} of ${ops.length} operations not exercised: ${unseen.join(', ')}`);
}
finish();
