import crypto from 'node:crypto';
import express from 'express';

const app = express(); // scaffold: the docs' snippet (every line not marked "scaffold") assumes an express `app`
app.use((req, res, next) => { res.on('finish', () => console.log(JSON.stringify({ status: res.statusCode, event_id: req.header('LiteHQ-Event-Id') ?? null, event_type: req.header('LiteHQ-Event-Type') ?? null }))); next(); }); // scaffold: one log line per request
app.post('/webhooks/litehq',
  express.raw({ type: 'application/json' }),
  (req, res) => {
    const sig = req.header('LiteHQ-Signature') ?? '';
    const expected = crypto
      .createHmac('sha256', process.env.LITEHQ_WEBHOOK_SECRET!)
      .update(req.body) // raw Buffer, not parsed JSON
      .digest('hex');

    if (!crypto.timingSafeEqual(Buffer.from(sig), Buffer.from(expected))) {
      return res.status(401).send('bad signature');
    }

    const event = JSON.parse(req.body.toString());
    // ... handle event.type
    res.status(200).send('ok');
  }
);
const server = app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => console.log(JSON.stringify({ listening: server.address() }))); // scaffold
