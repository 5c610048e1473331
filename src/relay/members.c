/*
 * The Pumps of the relay (relay_internal.h declares the functions): one merge source per
 * Pump, its pump client's deliveries queued into the merge (on_binlog), and the
 * membership etcd reports (tr_relay_reconcile; see relay.c's header for the rules).
 */
#include "relay/members.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "common/clock.h"
#include "common/err.h"

/* The member of a merge source id, or NULL. Caller holds mu or members_mu. */
static member_t *member_by_source(tr_relay_t *r, uint32_t source_id)
{
    for (size_t i = 0; i < r->n_members; i++) {
        if (r->members[i]->source_id == source_id) {
            return r->members[i];
        }
    }
    return NULL;
}

/* Whether deliveries from m are refused now. Caller holds mu. */
static bool refuses(tr_relay_t *r, const member_t *m)
{
    return r->stopping || m == NULL || m->cancelling || !m->in_merge;
}

static int on_binlog(void *arg, uint32_t pump_id, tr_spool_msg_t **msg, const uint8_t *payload,
                     size_t len, const tr_tidb_binlog_t *b)
{
    tr_relay_t *r = arg;
    pthread_mutex_lock(&r->mu);
    member_t *m = member_by_source(r, pump_id);
    if (refuses(r, m)) {
        pthread_mutex_unlock(&r->mu);
        return -1;
    }
    int rc = 0;
    if (tr_tidb_binlog_is_fake(b)) {
        rc = tr_merge_watermark(r->merge, pump_id, b->commit_ts);
    } else if (b->tp == TR_TIDB_BINLOG_COMMIT) {
        while (!refuses(r, m) && tr_merge_queued(r->merge, pump_id) >= MAX_QUEUED_PER_PUMP) {
            pthread_cond_wait(&r->space, &r->mu);
        }
        if (refuses(r, m)) {
            pthread_mutex_unlock(&r->mu);
            return -1;
        }
        pending_t *p = tr_malloc(sizeof(*p));
        p->msg = *msg;
        p->payload = payload;
        p->len = len;
        rc = tr_merge_push(r->merge, pump_id, b->commit_ts, p);
        if (rc == 0) {
            *msg = NULL; /* the queue keeps it */
        } else {
            tr_free(p);
        }
    }
    if (rc == 0) {
        if (b->commit_ts > m->pulled_ts) {
            m->pulled_ts = b->commit_ts;
        }
        m->recv_ms = tr_clock_wall_ms();
        m->binlogs++;
        /* Wake the writer only when it has something to do: a binlog queued
         * behind another Pump's watermark releases nothing, and waking it for
         * each one cost a context switch per binlog (10,000/s at the latency
         * bench's rate). Fake binlogs still wake it (the merge watermark it
         * records as durable moved), and so does any binlog of a leaving Pump
         * (the writer checks whether it is drained). */
        if (tr_tidb_binlog_is_fake(b) || m->leaving || tr_merge_can_pop(r->merge)) {
            pthread_cond_signal(&r->ready);
        }
    }
    pthread_mutex_unlock(&r->mu);
    if (rc != 0) {
        tr_relay_error(r, TR_UPSTREAM_ERR_REFUSED, TR_LOG_WARN, "relay",
                       "merge refused a binlog pump=%" PRIu32 " commit_ts=%" PRId64 " err=%s",
                       pump_id, b->commit_ts, tr_strerror(rc));
    }
    return rc;
}

void tr_relay_drop_pending(void *data)
{
    pending_free(data);
}

static member_t *member_by_node(tr_relay_t *r, const char *node_id)
{
    for (size_t i = 0; i < r->n_members; i++) {
        if (strcmp(r->members[i]->node_id, node_id) == 0) {
            return r->members[i];
        }
    }
    return NULL;
}

/* Starts pulling m from `from`. Caller holds members_mu. */
static void start_client(tr_relay_t *r, member_t *m, int64_t from)
{
    tr_pump_client_opts_t o = {
        .pump_id = m->source_id,
        .addr = m->host,
        .cluster_id = r->cfg->cluster_id,
        .start_commit_ts = from,
        .deliver_owned = on_binlog,
        .arg = r,
        .spool_dir = r->cfg->store_dir, /* large messages: unlinked files next to the store */
    };
    pthread_mutex_lock(&r->mu);
    m->cancelling = false;
    pthread_mutex_unlock(&r->mu);
    int rc = tr_pump_client_start(&o, &m->client);
    if (rc != 0) {
        /* Retried at the next list (discovery) or never (static: a config error). */
        tr_log_error("relay", "cannot start a pump client node_id=%s addr=%s: %s", m->node_id,
                     m->host, tr_strerror(rc));
        m->client = NULL;
        m->resume_ts = from;
        return;
    }
    tr_log_info("relay", "pulling from pump node_id=%s addr=%s start_commit_ts=%" PRId64,
                m->node_id, m->host, from);
}

/* Stops m's client (if any), keeping where it got to. Caller holds members_mu. */
void tr_relay_stop_client(tr_relay_t *r, member_t *m)
{
    if (m->client == NULL) {
        return;
    }
    pthread_mutex_lock(&r->mu);
    m->cancelling = true; /* a delivery blocked on queue space gives up */
    pthread_cond_broadcast(&r->space);
    pthread_mutex_unlock(&r->mu);
    tr_pump_client_stop(m->client);
    pthread_mutex_lock(&r->mu);
    m->resume_ts = m->pulled_ts; /* the client delivered exactly up to here */
    pthread_mutex_unlock(&r->mu);
    m->client = NULL;
}

/* Frees m after its source left the merge. Caller holds members_mu. */
static void forget_member(tr_relay_t *r, member_t *m)
{
    tr_relay_stop_client(r, m);
    pthread_mutex_lock(&r->mu);
    for (size_t i = 0; i < r->n_members; i++) {
        if (r->members[i] == m) {
            r->members[i] = r->members[--r->n_members];
            break;
        }
    }
    pthread_mutex_unlock(&r->mu);
    tr_log_info("relay", "pump forgotten node_id=%s", m->node_id);
    tr_free(m);
}

/*
 * Applies one Pump list (discovery thread; static mode calls it once at
 * start). New members first join the merge together under one lock, then
 * clients start; then known members follow their state.
 */
void tr_relay_reconcile(tr_relay_t *r, const tr_node_status_t *pumps, size_t n)
{
    pthread_mutex_lock(&r->members_mu);
    if (tr_relay_is_stopping(r)) {
        pthread_mutex_unlock(&r->members_mu);
        return;
    }
    /* Members whose source the writer removed. */
    for (size_t i = 0; i < r->n_members;) {
        member_t *m = r->members[i];
        pthread_mutex_lock(&r->mu);
        bool gone = !m->in_merge;
        pthread_mutex_unlock(&r->mu);
        if (gone) {
            forget_member(r, m); /* moves the last member into slot i */
        } else {
            i++;
        }
    }

    /* New Pumps join the merge at its last released commit_ts. */
    member_t *fresh[MAX_MEMBERS];
    size_t n_fresh = 0;
    int64_t join_ts = 0;
    pthread_mutex_lock(&r->mu);
    join_ts = tr_merge_last_ts(r->merge);
    for (size_t i = 0; i < n; i++) {
        const tr_node_status_t *st = &pumps[i];
        if (st->state == TR_NODE_OFFLINE || st->state == TR_NODE_UNKNOWN ||
            member_by_node(r, st->node_id) != NULL) {
            continue;
        }
        if (st->host[0] == '\0' || r->n_members == MAX_MEMBERS) {
            tr_log_warn("relay", "pump ignored (no host or too many pumps) node_id=%s",
                        st->node_id);
            continue;
        }
        member_t *m = tr_calloc(1, sizeof(*m));
        snprintf(m->node_id, sizeof(m->node_id), "%s", st->node_id);
        snprintf(m->host, sizeof(m->host), "%s", st->host);
        m->source_id = r->next_source_id++;
        m->state = st->state;
        m->resume_ts = join_ts;
        m->pulled_ts = join_ts;
        m->in_merge = true;
        m->joined_ms = tr_clock_wall_ms();
        int rc = tr_merge_add_source(r->merge, m->source_id);
        TR_ASSERT(rc == 0); /* source ids are never reused */
        r->members[r->n_members++] = m;
        fresh[n_fresh++] = m;
    }
    pthread_mutex_unlock(&r->mu);
    for (size_t i = 0; i < n_fresh; i++) {
        member_t *m = fresh[i];
        tr_log_info("relay", "pump joined node_id=%s addr=%s state=%s join_commit_ts=%" PRId64,
                    m->node_id, m->host, tr_node_state_name(m->state), join_ts);
        if (m->state != TR_NODE_PAUSED) {
            start_client(r, m, join_ts);
        }
    }

    /* Known Pumps follow their state. */
    for (size_t i = 0; i < n; i++) {
        const tr_node_status_t *st = &pumps[i];
        member_t *m = member_by_node(r, st->node_id);
        bool is_fresh = false;
        for (size_t k = 0; k < n_fresh; k++) {
            is_fresh = is_fresh || fresh[k] == m;
        }
        if (m == NULL || is_fresh) {
            continue;
        }
        tr_node_state_t old = m->state;
        m->state = st->state;
        if (st->state != old) {
            tr_log_info("relay", "pump state node_id=%s %s -> %s max_commit_ts=%" PRId64,
                        m->node_id, tr_node_state_name(old), tr_node_state_name(st->state),
                        st->max_commit_ts);
        }
        switch (st->state) {
        case TR_NODE_PAUSED:
            tr_relay_stop_client(r, m); /* the source stays: the merge waits for it */
            break;
        case TR_NODE_ONLINE:
        case TR_NODE_OFFLINE:
            if (m->client != NULL && strcmp(m->host, st->host) != 0 && st->host[0] != '\0') {
                tr_log_info("relay", "pump moved node_id=%s %s -> %s", m->node_id, m->host,
                            st->host);
                tr_relay_stop_client(r, m);
            }
            if (st->host[0] != '\0') {
                snprintf(m->host, sizeof(m->host), "%s", st->host);
            }
            if (st->state == TR_NODE_OFFLINE) {
                pthread_mutex_lock(&r->mu);
                bool drained = m->pulled_ts >= st->max_commit_ts;
                if (!m->leaving) {
                    m->leaving = true;
                    m->offline_max = st->max_commit_ts;
                    pthread_cond_signal(&r->ready); /* the writer checks whether it is drained */
                }
                pthread_mutex_unlock(&r->mu);
                if (drained) {
                    break; /* nothing left to pull */
                }
            }
            if (m->client == NULL) {
                start_client(r, m, m->resume_ts);
            }
            break;
        default:
            break; /* pausing, closing, unknown: no change, as Drainer */
        }
    }
    pthread_mutex_unlock(&r->members_mu);
}

void tr_relay_on_pumps(void *arg, const tr_node_status_t *pumps, size_t n)
{
    tr_relay_reconcile(arg, pumps, n);
}

int64_t tr_relay_progress_ts(void *arg)
{
    tr_relay_t *r = arg;
    return atomic_load(&r->durable_ts);
}

/* Removes offline Pumps that have been drained: nothing queued and pulled up
 * to the maxCommitTS they published. Caller holds mu (writer thread). */
void tr_relay_reap_offline(tr_relay_t *r)
{
    for (size_t i = 0; i < r->n_members; i++) {
        member_t *m = r->members[i];
        if (!m->in_merge || !m->leaving) {
            continue;
        }
        if (tr_merge_queued(r->merge, m->source_id) == 0 && m->pulled_ts >= m->offline_max) {
            tr_merge_remove_source(r->merge, m->source_id, tr_relay_drop_pending);
            m->in_merge = false;
            tr_log_info("relay", "offline pump left the merge node_id=%s last_ts=%" PRId64,
                        m->node_id, m->pulled_ts);
            tr_discovery_notify(r->discovery); /* stop its client soon */
            continue;
        }
        int64_t now = tr_clock_mono_ms();
        if (now - m->warned_ms >= OFFLINE_WARN_MS) {
            if (m->warned_ms != 0) {
                tr_log_warn("relay",
                            "offline pump not drained yet, output waits for it node_id=%s "
                            "pulled_ts=%" PRId64 " max_commit_ts=%" PRId64,
                            m->node_id, m->pulled_ts, m->offline_max);
            }
            m->warned_ms = now;
        }
    }
}
