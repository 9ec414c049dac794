#!/usr/bin/env node
// TEST STAND-IN for the MinIO client `mc`, NOT mc: only the commands that docker-compose.s3.yml
// and scripts/compose-smoke.sh run, over the S3 API with SigV4-signed requests.
//   mc alias set ALIAS URL ACCESS_KEY SECRET_KEY
//   mc mb [--ignore-existing] ALIAS/BUCKET
//   mc ready ALIAS                       (one try: does the server answer at all)
//   mc ls --recursive ALIAS/BUCKET[/PREFIX]   (full keys, sizes in bytes)
// Aliases are kept in ~/.mc/config.json, as mc keeps them; `local` is http://localhost:9000
// until set, as in mc.
const { createHash, createHmac } = require('node:crypto');
const { mkdirSync, readFileSync, writeFileSync } = require('node:fs');
const { homedir } = require('node:os');
const { join } = require('node:path');

const configFile = join(homedir(), '.mc', 'config.json');
const sha256 = (data) => createHash('sha256').update(data).digest('hex');
const hmac = (key, data) => createHmac('sha256', key).update(data).digest();

function fail(message, code = 1) {
  console.error(`mc: <ERROR> ${message}`);
  process.exit(code);
}

function readConfig() {
  try {
    return JSON.parse(readFileSync(configFile, 'utf8'));
  } catch {
    return { version: '10', aliases: { local: { url: 'http://localhost:9000', accessKey: '', secretKey: '', api: 'S3v4', path: 'auto' } } };
  }
}

function target(arg) {
  const [name, bucket, ...prefix] = (arg ?? '').split('/');
  const alias = readConfig().aliases[name];
  if (!alias) fail(`Unable to find alias \`${name}\`.`);
  return { alias, bucket, prefix: prefix.join('/') };
}

/** An S3 request, signed with AWS Signature Version 4 when the alias has keys. */
async function s3(alias, method, path, query = {}) {
  const url = new URL(path, alias.url);
  const headers = {};
  if (alias.accessKey) {
    const amzDate = new Date().toISOString().replace(/[-:]|\.\d{3}/g, '');
    const scope = `${amzDate.slice(0, 8)}/us-east-1/s3/aws4_request`;
    const payload = sha256('');
    const canonicalQuery = Object.keys(query)
      .sort()
      .map((k) => `${encodeURIComponent(k)}=${encodeURIComponent(query[k])}`)
      .join('&');
    const canonical = [
      method,
      url.pathname,
      canonicalQuery,
      `host:${url.host}`,
      `x-amz-content-sha256:${payload}`,
      `x-amz-date:${amzDate}`,
      '',
    ]
      .concat(['host;x-amz-content-sha256;x-amz-date', payload])
      .join('\n');
    const key = ['us-east-1', 's3', 'aws4_request'].reduce(hmac, hmac(`AWS4${alias.secretKey}`, amzDate.slice(0, 8)));
    const signature = createHmac('sha256', key)
      .update(['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonical)].join('\n'))
      .digest('hex');
    Object.assign(headers, {
      'x-amz-date': amzDate,
      'x-amz-content-sha256': payload,
      authorization: `AWS4-HMAC-SHA256 Credential=${alias.accessKey}/${scope}, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=${signature}`,
    });
  }
  for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
  const res = await fetch(url, { method, headers });
  return { status: res.status, body: await res.text() };
}

const tag = (xml, name) => [...xml.matchAll(new RegExp(`<${name}>([^<]*)</${name}>`, 'g'))].map((m) => m[1]);
const unescape = (s) =>
  s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');
const s3Error = ({ status, body }) => `${tag(body, 'Code')[0] ?? `HTTP ${status}`}: ${tag(body, 'Message')[0] ?? body.slice(0, 200)}`;

const commands = {
  async alias([sub, name, url, accessKey, secretKey]) {
    if (sub !== 'set' || !name || !url || accessKey === undefined || secretKey === undefined)
      fail('usage: mc alias set ALIAS URL ACCESS_KEY SECRET_KEY', 2);
    const config = readConfig();
    const alias = { url: url.replace(/\/+$/, ''), accessKey, secretKey, api: 'S3v4', path: 'auto' };
    // mc checks the keys before it keeps them: a ListBuckets call.
    const res = await s3(alias, 'GET', '/');
    if (res.status !== 200) fail(`Unable to initialize new alias from the provided credentials. ${s3Error(res)}`);
    config.aliases[name] = alias;
    mkdirSync(join(homedir(), '.mc'), { recursive: true });
    writeFileSync(configFile, JSON.stringify(config, null, 2));
    console.log(`Added \`${name}\` successfully.`);
  },

  async mb(args) {
    const ignoreExisting = args.includes('--ignore-existing') || args.includes('-p');
    const path = args.find((a) => !a.startsWith('-'));
    const { alias, bucket } = target(path);
    const res = await s3(alias, 'PUT', `/${bucket}`);
    if (res.status === 200) console.log(`Bucket created successfully \`${path}\`.`);
    else if (res.status === 409 && ignoreExisting) console.log(`Bucket created successfully \`${path}\`.`);
    else fail(`Unable to make bucket \`${path}\`. ${s3Error(res)}`);
  },

  async ready([name]) {
    const { alias } = target(name);
    try {
      await fetch(alias.url, { signal: AbortSignal.timeout(2000) });
      console.log(`The cluster '${name}' is ready`);
    } catch (error) {
      fail(`The cluster '${name}' is not ready: ${error.cause?.code ?? error.message}`);
    }
  },

  async ls(args) {
    if (!args.includes('--recursive') && !args.includes('-r')) fail('this stand-in lists with --recursive only', 2);
    const { alias, bucket, prefix } = target(args.find((a) => !a.startsWith('-')));
    let token;
    do {
      const query = { 'list-type': '2', prefix, ...(token ? { 'continuation-token': token } : {}) };
      const res = await s3(alias, 'GET', `/${bucket}`, query);
      if (res.status !== 200) fail(s3Error(res));
      for (const contents of res.body.match(/<Contents>[\s\S]*?<\/Contents>/g) ?? []) {
        const [key] = tag(contents, 'Key');
        const [modified] = tag(contents, 'LastModified');
        const [size] = tag(contents, 'Size');
        const when = modified.replace('T', ' ').replace(/\.\d+Z$|Z$/, ' UTC');
        console.log(`[${when}] ${`${size}B`.padStart(9)} STANDARD ${unescape(key)}`);
      }
      token = tag(res.body, 'IsTruncated')[0] === 'true' ? unescape(tag(res.body, 'NextContinuationToken')[0]) : undefined;
    } while (token);
  },
};

const [command, ...args] = process.argv.slice(2);
if (!commands[command]) fail(`"${command ?? ''}" is not a command of this stand-in (alias set, mb, ready, ls --recursive)`, 2);
commands[command](args).catch((error) => fail(error.cause?.code ?? error.message));
