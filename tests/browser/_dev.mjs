import { startServer, launch, openPage } from './harness.mjs';
const srv = await startServer();
const b = await launch();
const a = await openPage(b, srv.url + '/?name=alice&transport=sse&rooms=lobby,dev#chat');
const c = await openPage(b, srv.url + '/?name=bob&transport=ws&rooms=lobby#chat');
await a.waitForTimeout(800);
for (const [p, t] of [[a, 'hello from alice over sse'], [c, 'hi alice, bob on ws <img src=x onerror=alert(1)>'], [a, 'A long text: ' + 'lorem ipsum dolor sit amet '.repeat(30)], [c, 'averyveryveryverylongwordwithoutanyspaces'.repeat(8)]]) {
  await p.fill('#text', t); await p.press('#text', 'Enter'); await p.waitForTimeout(200);
}
await a.click('[data-transport=poll]'); await a.waitForTimeout(1500);
await c.fill('#text', 'after switch'); await c.press('#text', 'Enter');
await a.waitForTimeout(1500);
await a.screenshot({ path: '/tmp/dev-a.png' });
await c.screenshot({ path: '/tmp/dev-c.png' });
console.log(a.errors, c.errors);
await b.close(); await srv.stop();
