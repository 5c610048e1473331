// Streams a server's binlog through one npm binlog client and prints every row change the
// client reports as one JSON line, in the client's own value types:
//   {"t": table, "op": "insert"|"update"|"delete", "row": {...}, "before": {...}}
//   {"query": "..."}             a QUERY event, where the client reports them
//   {"error": "..."}             an error the client reported (it may go on or retry)
//   {"ready": true}              the client is started (written once)
// Values: Buffer -> {"$hex"}, Date -> {"$date": ISO or "invalid"}, BigInt -> {"$bigint"},
// other class instances -> {"$class": name, "$value": String(v)}; numbers, strings, arrays
// and plain objects (decoded JSON) as they are. Runs until SIGTERM (then prints
// {"done": true}). Usage: node stream_rows.cjs CLIENT PORT USER PASSWORD FILE DB SERVER_ID
// CLIENT: zongji:<module> | mysql-events | rodrigogs-mysql-events | go-mysql:<module>, or one
// of the clients that report no row values: mysql-binlog-emitter | mysql-event-emitter |
// mysql2 (createBinlogStream): they print {"event": name} lines and their errors.
// Used by tests/integration/test_real_clients.py.
'use strict';

const [client, port, user, password, file, db, serverIdArg] = process.argv.slice(2);
const serverId = Number(serverIdArg);
const dsn = { host: '127.0.0.1', port: Number(port), user, password };
const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');
let stopper = async () => {};

function plain(row) {
  const o = {};
  for (const [k, v] of Object.entries(row || {})) {
    if (Buffer.isBuffer(v)) o[k] = { $hex: v.toString('hex') };
    else if (v instanceof Date) o[k] = { $date: isNaN(v.getTime()) ? 'invalid' : v.toISOString() };
    else if (typeof v === 'bigint') o[k] = { $bigint: v.toString() };
    else if (v && typeof v === 'object' && !Array.isArray(v) && v.constructor &&
             v.constructor !== Object) o[k] = { $class: v.constructor.name, $value: String(v) };
    else o[k] = v;
  }
  return o;
}

function rowsOf(name, table, rows) {
  for (const r of rows) {
    if (name === 'updaterows') out({ t: table, op: 'update', before: plain(r.before), row: plain(r.after) });
    else out({ t: table, op: name === 'writerows' ? 'insert' : 'delete', row: plain(r) });
  }
}

// The ZongJi family: zongji, @rodrigogs/zongji, mysqlrepl, @powersync/mysql-zongji,
// @vlasky/zongji. Start options under both spellings (filename/position and
// binlogName/binlogNextPos: the older forks read the second).
function zongji(mod) {
  let ZongJi = require(mod);
  ZongJi = ZongJi.default || ZongJi.ZongJi || ZongJi;
  const z = new ZongJi(dsn);
  z.on('binlog', (evt) => {
    const name = evt.getEventName();
    if (name === 'query') {
      out({ query: evt.query });
    } else if (['writerows', 'updaterows', 'deleterows'].includes(name)) {
      const tm = evt.tableMap[evt.tableId];
      if (tm.parentSchema === db) rowsOf(name, tm.tableName, evt.rows);
    }
  });
  z.on('error', (e) => out({ error: String((e && e.stack) || e) }));
  z.start({ serverId, startAtEnd: false, filename: file, position: 4,
            binlogName: file, binlogNextPos: 4,
            includeEvents: ['tablemap', 'writerows', 'updaterows', 'deleterows', 'query'] });
  stopper = async () => z.stop();
  out({ ready: true });
}

// mysql-events 0.0.11 (zongji 0.4.3 inside): a watcher on the database; it restarts its
// zongji after an error, from the last position it saw.
function mysqlEvents() {
  const MySQLEvents = require('mysql-events');
  const w = MySQLEvents(dsn, { startAtEnd: false, binlogName: file, binlogNextPos: 4,
                               serverId });
  w.add(db, (oldRow, newRow, evt) => {
    const table = evt.tableMap[evt.tableId].tableName;
    if (oldRow && newRow) out({ t: table, op: 'update', before: plain(oldRow.fields), row: plain(newRow.fields) });
    else if (newRow) out({ t: table, op: 'insert', row: plain(newRow.fields) });
    else out({ t: table, op: 'delete', row: plain(oldRow.fields) });
  });
  w.zongji.on('error', (e) => out({ error: String((e && e.stack) || e) }));
  stopper = async () => w.stop();
  out({ ready: true });
}

// @rodrigogs/mysql-events 0.6.0 (@rodrigogs/zongji inside): one trigger on every table.
async function rodrigogsEvents() {
  const MySQLEvents = require('@rodrigogs/mysql-events');
  const inst = new MySQLEvents(dsn, { startAtEnd: false, binlogName: file, binlogNextPos: 4,
                                      serverId });
  inst.on(MySQLEvents.EVENTS.CONNECTION_ERROR, (e) => out({ error: String(e) }));
  inst.on(MySQLEvents.EVENTS.ZONGJI_ERROR, (e) => out({ error: String((e && e.stack) || e) }));
  await inst.start();
  inst.addTrigger({
    name: 'all', expression: db + '.*', statement: MySQLEvents.STATEMENTS.ALL,
    onEvent: (e) => {
      for (const r of e.affectedRows) {
        if (e.type === 'UPDATE') out({ t: e.table, op: 'update', before: plain(r.before), row: plain(r.after) });
        else if (e.type === 'INSERT') out({ t: e.table, op: 'insert', row: plain(r.after) });
        else out({ t: e.table, op: 'delete', row: plain(r.before) });
      }
    },
  });
  stopper = async () => inst.stop();
  out({ ready: true });
}

// go-mysql-js / @solashi/go-mysql-binlog-node: a prebuilt go-mysql canal (Go) behind a JS
// wrapper. binlogPosition takes go-mysql's {Name, Pos} field names (the .d.ts says
// {name, position}, which the Go side ignores).
async function goMysql(mod) {
  let MysqlBinlog = require(mod);
  MysqlBinlog = MysqlBinlog.default || MysqlBinlog;
  const syncer = await MysqlBinlog.create({
    hostname: '127.0.0.1', port: Number(port), username: user, password,
    tableRegexes: [db + '\\..*'], binlogPosition: { name: file, pos: 4 } });
  const many = (x) => (Array.isArray(x) ? x : [x]);
  syncer.on('event', (e) => {
    if (e.table.schema !== db) return;
    if (e.insert) for (const r of many(e.insert)) out({ t: e.table.name, op: 'insert', row: plain(r) });
    if (e.update) for (const r of many(e.update)) out({ t: e.table.name, op: 'update', before: plain(r.old), row: plain(r.new) });
    if (e.delete) for (const r of many(e.delete)) out({ t: e.table.name, op: 'delete', row: plain(r) });
  });
  syncer.on('error', (e) => out({ error: String(e) }));
  syncer.on('close', () => out({ error: 'closed' }));
  stopper = async () => syncer.close();
  out({ ready: true });
}

// mysql-binlog-emitter 0.0.16 / mysql-event-emitter 1.0.8: event headers and table names
// only. Neither sets @master_binlog_checksum, and both dump from the first file (empty name).
function emitter(mod) {
  const Mod = require(mod);
  const m = new Mod({ mysql: dsn, binlog: { slaveId: serverId } }); // an ES class: needs new
  if (mod === 'mysql-binlog-emitter') {
    m.on(Mod.Events.ANY, (type, ...data) => {
      const p = data[0];
      if (p && typeof p === 'object' && 'eventType' in p) out({ event: Mod.Events.eventName(type) });
      else if (data.length) out({ error: String((data[0] && data[0].stack) || data[0]) });
    });
  } else {
    m.on('change', (d, table) => out({ event: 'change', t: table }));
    m.on('error', (e) => out({ error: String(e) }));
  }
  m.start((err) => { if (err) out({ error: String(err) }); else out({ ready: true }); });
}

// mysql2 3.26.1 createBinlogStream: COM_REGISTER_SLAVE + COM_BINLOG_DUMP from FILE.
function mysql2() {
  const m2 = require('mysql2');
  const c = m2.createConnection(dsn);
  c.on('error', (e) => out({ error: String((e && e.stack) || e) }));
  c.query('SET @master_binlog_checksum=@@global.binlog_checksum', (err) => {
    if (err) {
      out({ error: String(err) });
      return;
    }
    out({ ready: true });
    const st = c.createBinlogStream({ serverId, binlogPos: 4, filename: file, flags: 0 });
    st.on('data', (ev) => out({ event: ev.name }));
    st.on('error', (e) => out({ error: String((e && e.stack) || e) }));
  });
}

process.on('SIGTERM', () => {
  Promise.race([stopper().catch(() => {}), new Promise((r) => setTimeout(r, 1000))])
    .finally(() => process.stdout.write(JSON.stringify({ done: true }) + '\n', () => process.exit(0)));
});
process.on('uncaughtException', (e) => {
  out({ fatal: String((e && e.stack) || e) });
  process.exit(1);
});

const [kind, mod] = client.split(/:(.*)/s);
const start = { zongji: () => zongji(mod), 'mysql-events': mysqlEvents,
                'rodrigogs-mysql-events': rodrigogsEvents, 'go-mysql': () => goMysql(mod),
                'mysql-binlog-emitter': () => emitter(kind), 'mysql-event-emitter': () => emitter(kind),
                mysql2 }[kind];
if (!start) {
  out({ fatal: 'unknown client ' + client });
  process.exit(2);
}
Promise.resolve().then(start).catch((e) => {
  out({ fatal: String((e && e.stack) || e) });
  process.exit(1);
});
