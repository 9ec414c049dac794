import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { downloadToFile } from './download';
import { OutboundUrlError } from './outbound-url';

describe('downloadToFile', () => {
  let server: Server;
  let base: string;
  const dir = mkdtempSync(join(tmpdir(), 'ocr-download-'));

  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/doc.pdf')
        res.writeHead(200, { 'content-disposition': "attachment; filename*=UTF-8''R%C3%A9sum%C3%A9.pdf" }).end('%PDF-1.4 x');
      else if (req.url === '/away') res.writeHead(301, { location: 'https://127.0.0.1:1/doc.pdf' }).end();
      else if (req.url === '/ftp') res.writeHead(302, { location: 'ftp://example.com/doc.pdf' }).end();
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  const open = { allowPrivate: true, allowHttp: true };
  const options = (policy = open) => ({ policy, dir, limit: 1024, timeoutMs: 2000 });

  it('saves the file under a name of its own and keeps the name the server gave', async () => {
    const download = await downloadToFile(`${base}/doc.pdf`, options());
    expect(download.size).toBe(10);
    expect(download.fileName).toBe('Résumé.pdf');
    expect(download.path.startsWith(dir)).toBe(true);
    rmSync(download.path);
  });

  it('refuses a loopback host unless private addresses are allowed, before connecting', async () => {
    await expect(downloadToFile(`${base}/doc.pdf`, options({ allowPrivate: false, allowHttp: true }))).rejects.toThrow(OutboundUrlError);
    await expect(downloadToFile(`${base}/doc.pdf`, options({ allowPrivate: true, allowHttp: false }))).rejects.toThrow('must use https');
  });

  it('checks every hop of a redirect like the first', async () => {
    await expect(downloadToFile(`${base}/away`, options({ allowPrivate: true, allowHttp: true }))).rejects.toThrow('could not be fetched');
    await expect(downloadToFile(`${base}/ftp`, options())).rejects.toThrow(new OutboundUrlError('url must use https or http.'));
    expect(readdirSync(dir)).toEqual([]);
  });
});
