// Connects @vlasky/zongji to tirelay's MySQL listener and prints every row
// change as one JSON line: {"t": table, "op": "insert|update|delete",
// "row": {...}} (update: the after image, plus "before"). Exits 0 after
// --idle-ms without events once at least --min-events row events arrived,
// or 1 on a zongji error. Usage: node zongji_dump.mjs PORT USER PASSWORD
// MIN_EVENTS IDLE_MS
import ZongJi from '@vlasky/zongji';

const [port, user, password, minEvents, idleMs] = process.argv.slice(2);
const zongji = new ZongJi({ host: '127.0.0.1', port: Number(port), user, password });
let events = 0;
let timer = null;

function plain(row) {
  const out = {};
  for (const [k, v] of Object.entries(row)) {
    if (Buffer.isBuffer(v)) out[k] = { hex: v.toString('hex') };
    else if (v instanceof Date) out[k] = { date: isNaN(v.getTime()) ? 'invalid' : v.toISOString() }; // zero dates
    else if (typeof v === 'bigint') out[k] = v.toString();
    else out[k] = v;
  }
  return out;
}

function arm() {
  if (timer) clearTimeout(timer);
  timer = setTimeout(() => {
    if (events >= Number(minEvents)) {
      zongji.stop();
      process.stdout.write(JSON.stringify({ done: true, events }) + '\n', () => process.exit(0));
    } else {
      arm();
    }
  }, Number(idleMs));
}

zongji.on('binlog', (evt) => {
  const name = evt.getEventName();
  if (!['writerows', 'updaterows', 'deleterows'].includes(name)) return;
  const table = evt.tableMap[evt.tableId].tableName;
  for (const r of evt.rows) {
    let line;
    if (name === 'updaterows') line = { t: table, op: 'update', before: plain(r.before), row: plain(r.after) };
    else line = { t: table, op: name === 'writerows' ? 'insert' : 'delete', row: plain(r) };
    process.stdout.write(JSON.stringify(line) + '\n');
  }
  events++;
  arm();
});
zongji.on('error', (err) => {
  process.stderr.write('zongji error: ' + (err && err.stack || err) + '\n');
  process.exit(1);
});
zongji.start({ serverId: 4242, startAtEnd: false, filename: 'tirelay-bin.000001', position: 4,
  includeEvents: ['tablemap', 'writerows', 'updaterows', 'deleterows'] });
arm();
