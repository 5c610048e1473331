"""Table model of the simulated TiDB: column definitions, the DDL text TiDB
would log for them, and the DDL job JSON TiDB keeps in its history
(mysql.tidb_ddl_history.job_meta).  Shapes follow shared/spec/tidb-binlog.md
sections 7.4 and 8 (pingcap/tidb pkg/meta/model/job.go, table.go, column.go,
db.go, pkg/parser/types/field_type.go, pkg/parser/mysql/type.go).

No I/O here.  Notes on fidelity:
  * numeric and time columns get charset/collation "binary" and BinaryFlag
    (TiDB types.SetBinChsClnFlag); NOT NULL columns without a default get
    NoDefaultValueFlag; the int primary key gets PriKeyFlag|NotNullFlag.
  * a single integer primary key is the row handle (pk_is_handle = true) and,
    as in TiDB's buildTableInfo (pingcap/tidb ddl/ddl_api.go: "Avoid creating
    index for PK handle column"), it gets NO entry in index_info: consumers
    find it through pk_is_handle and the column's PriKeyFlag.
"""

import json

# pkg/parser/mysql/type.go
TP_LONG = 3
TP_LONGLONG = 8
TP_DATETIME = 12
TP_VARCHAR = 15
TP_NEWDECIMAL = 0xF6
TP_BLOB = 0xFC
TP_STRING = 0xFE

NOT_NULL_FLAG = 1 << 0
PRI_KEY_FLAG = 1 << 1
BLOB_FLAG = 1 << 4
UNSIGNED_FLAG = 1 << 5
BINARY_FLAG = 1 << 7
NO_DEFAULT_VALUE_FLAG = 1 << 12

STATE_PUBLIC = 5
JOB_STATE_SYNCED = 6
ACTION_CREATE_SCHEMA = 1
ACTION_CREATE_TABLE = 3
ACTION_ADD_COLUMN = 5

CHARSET = "utf8mb4"
COLLATE = "utf8mb4_bin"


def cistr(name):
    return {"O": name, "L": name.lower()}


class Column:
    """kind: int | str | decimal | datetime.  sql: the type as TiDB renders it."""

    def __init__(self, name, kind, sql, tp, flen, decimal=0, unsigned=False,
                 nullable=True, pk=False, maxlen=None, default=None):
        self.name = name
        self.kind = kind
        self.sql = sql
        self.tp = tp
        self.flen = flen
        self.decimal = decimal
        self.unsigned = unsigned
        self.nullable = nullable and not pk
        self.pk = pk
        self.maxlen = maxlen          # characters, for strings
        self.default = default        # None: DEFAULT NULL (nullable) or no default
        self.id = 0
        self.offset = 0

    @property
    def is_string(self):
        return self.kind == "str"

    def flag(self):
        f = 0
        if not self.is_string:
            f |= BINARY_FLAG
        if self.unsigned:
            f |= UNSIGNED_FLAG
        if self.tp == TP_BLOB:
            f |= BLOB_FLAG
        if self.pk:
            f |= PRI_KEY_FLAG | NOT_NULL_FLAG | NO_DEFAULT_VALUE_FLAG
        elif not self.nullable:
            f |= NOT_NULL_FLAG
            if self.default is None:
                f |= NO_DEFAULT_VALUE_FLAG
        return f

    def default_json(self):
        # TiDB keeps column defaults as their string form in the JSON
        return None if self.default is None else str(self.default)

    def field_type(self):
        return {
            "Tp": self.tp,
            "Flag": self.flag(),
            "Flen": self.flen,
            "Decimal": self.decimal,
            "Charset": CHARSET if self.is_string else "binary",
            "Collate": COLLATE if self.is_string else "binary",
            "Elems": None,
            "ElemsIsBinaryLit": None,
            "Array": False,
        }

    def info(self):
        return {
            "id": self.id,
            "name": cistr(self.name),
            "offset": self.offset,
            "origin_default": self.default_json(),
            "origin_default_bit": None,
            "default": self.default_json(),
            "default_bit": None,
            "default_is_expr": False,
            "generated_expr_string": "",
            "generated_stored": False,
            "dependences": None,
            "type": self.field_type(),
            "state": STATE_PUBLIC,
            "comment": "",
            "hidden": False,
            "change_state_info": None,
            "version": 2,
        }

    def ddl(self):
        s = "`%s` %s" % (self.name, self.sql)
        if self.unsigned:
            s += " UNSIGNED"
        if self.pk or not self.nullable:
            s += " NOT NULL"
        if self.default is not None:
            s += " DEFAULT " + ("'%s'" % self.default if self.is_string else str(self.default))
        elif self.nullable:
            s += " DEFAULT NULL"
        return s


# constructors for the types the workload uses

def c_int(name, big=False, unsigned=False, **kw):
    if big:
        return Column(name, "int", "BIGINT", TP_LONGLONG, 20, unsigned=unsigned, **kw)
    return Column(name, "int", "INT", TP_LONG, 10 if unsigned else 11, unsigned=unsigned, **kw)


def c_varchar(name, n, **kw):
    return Column(name, "str", "VARCHAR(%d)" % n, TP_VARCHAR, n, maxlen=n, **kw)


def c_char(name, n, **kw):
    return Column(name, "str", "CHAR(%d)" % n, TP_STRING, n, maxlen=n, **kw)


def c_text(name, **kw):
    return Column(name, "str", "TEXT", TP_BLOB, 65535, maxlen=400, **kw)


def c_decimal(name, p, s, **kw):
    return Column(name, "decimal", "DECIMAL(%d,%d)" % (p, s), TP_NEWDECIMAL, p, decimal=s, **kw)


def c_datetime(name, fsp, **kw):
    sql = "DATETIME(%d)" % fsp if fsp else "DATETIME"
    return Column(name, "datetime", sql, TP_DATETIME, 19 + (fsp + 1 if fsp else 0), decimal=fsp, **kw)


class Table:
    def __init__(self, db, name, columns):
        self.db = db
        self.name = name
        self.columns = columns
        self.id = 0
        self.schema_id = 0
        pks = [c for c in columns if c.pk]
        assert len(pks) == 1
        self.pk = pks[0]
        for i, c in enumerate(columns):
            c.id = i + 1
            c.offset = i

    def add_column(self, col):
        """ADD COLUMN at the end: next column id, next offset (TiDB allocates
        max_col_id + 1)."""
        col.id = max(c.id for c in self.columns) + 1
        col.offset = len(self.columns)
        self.columns.append(col)

    def add_column_ddl(self, col):
        return "ALTER TABLE `%s` ADD COLUMN %s" % (self.name, col.ddl())

    def ddl(self):
        cols = ",".join(c.ddl() for c in self.columns)
        return ("CREATE TABLE `%s` (%s,PRIMARY KEY(`%s`)) ENGINE = InnoDB "
                "DEFAULT CHARACTER SET = UTF8MB4 DEFAULT COLLATE = UTF8MB4_BIN"
                % (self.name, cols, self.pk.name))

    def info(self, update_ts):
        return {
            "id": self.id,
            "name": cistr(self.name),
            "charset": CHARSET,
            "collate": COLLATE,
            "cols": [c.info() for c in self.columns],
            "index_info": None,
            "constraint_info": None,
            "fk_info": None,
            "state": STATE_PUBLIC,
            "pk_is_handle": True,
            "is_common_handle": False,
            "common_handle_version": 0,
            "comment": "",
            "auto_inc_id": 0,
            "auto_id_cache": 0,
            "auto_rand_id": 0,
            "max_col_id": max(c.id for c in self.columns),
            "max_idx_id": 0,
            "max_fk_id": 0,
            "max_cst_id": 0,
            "update_timestamp": update_ts,
            "ShardRowIDBits": 0,
            "max_shard_row_id_bits": 0,
            "auto_random_bits": 0,
            "auto_random_range_bits": 0,
            "pre_split_regions": 0,
            "partition": None,
            "compression": "",
            "view": None,
            "sequence": None,
            "Lock": None,
            "version": 5,
            "tiflash_replica": None,
            "is_columnar": False,
            "temp_table_type": 0,
            "cache_table_status": 0,
            "policy_ref_info": None,
            "stats_options": None,
            "exchange_partition_info": None,
            "ttl_info": None,
            "revision": 0,
        }


def db_info(schema_id, name):
    return {"id": schema_id, "db_name": cistr(name), "charset": CHARSET, "collate": COLLATE,
            "state": STATE_PUBLIC, "policy_ref_info": None}


def job_json(job_id, action, schema_id, table_id, schema_name, table_name, query,
             schema_version, start_ts, finished_ts, dbinfo=None, tableinfo=None):
    job = {
        "id": job_id,
        "type": action,
        "schema_id": schema_id,
        "table_id": table_id,
        "schema_name": schema_name,
        "table_name": table_name,
        "state": JOB_STATE_SYNCED,
        "warning": None,
        "err": None,
        "err_count": 0,
        "row_count": 0,
        "raw_args": None,
        "schema_state": STATE_PUBLIC,
        "snapshot_ver": 0,
        "real_start_ts": start_ts,
        "start_ts": start_ts,
        "dependency_id": 0,
        "query": query,
        "binlog": {
            "SchemaVersion": schema_version,
            "DBInfo": dbinfo,
            "TableInfo": tableinfo,
            "FinishedTS": finished_ts,
            "MultipleTableInfos": None,
        },
        "version": 1,
        "reorg_meta": None,
        "multi_schema_info": None,
        "priority": 0,
        "seq_num": job_id,
        "charset": "",
        "collate": "",
        "admin_operator": 0,
        "trace_info": None,
    }
    return json.dumps(job, separators=(",", ":"))
