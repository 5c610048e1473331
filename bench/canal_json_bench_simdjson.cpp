/*
 * simdjson's side of tr_canal_json_bench (canal_json_bench.c): Debian 12 ships simdjson 3.0.1
 * as a C++ library (libsimdjson-dev), so this adapter is the bench's only C++ and tirelay
 * itself stays C. Two ways of using it:
 *   DOM        parser.parse: stage 1 (structure, UTF-8 of the whole input) and a tape with
 *              every string unescaped, then old/data walked on the tape;
 *   On-Demand  parser.iterate: stage 1, then only the fields asked for are read (type,
 *              old, data, _tidb.commitTs), values unescaped as they are taken.
 * simdjson reads up to SIMDJSON_PADDING bytes past a document, which a Kafka message's
 * payload does not promise, so every call copies the message into a padded buffer first, as
 * the relay would have to (a few percent of a message's time).
 */
#include <cstdint>
#include <cstring>
#include <string_view>

#include <simdjson.h>

extern "C" {
/* canal_json_bench.c, through void pointers: work_t is a C struct C++ cannot name here. */
void tr_cjb_any_mix(void *w, uint64_t v);
void tr_cjb_any_value(void *w, const char *name, size_t name_len, const uint8_t *text,
                      size_t len);
void tr_cjb_any_head(void *w, uint64_t head);
void tr_cjb_any_image(void *w);
bool tr_cjb_simdjson_dom_parse(void *w, const char *msg, size_t len);
bool tr_cjb_simdjson_dom_full(void *w, const char *msg, size_t len);
bool tr_cjb_simdjson_od_parse(void *w, const char *msg, size_t len);
bool tr_cjb_simdjson_od_full(void *w, const char *msg, size_t len);
}

namespace {

simdjson::dom::parser dom_parser;
simdjson::ondemand::parser od_parser;
char *pad_buf;
size_t pad_cap;

/* The message in a reused buffer with simdjson's padding after it. */
const char *padded(const char *msg, size_t len)
{
    if (len + simdjson::SIMDJSON_PADDING > pad_cap) {
        delete[] pad_buf;
        pad_cap = (len + simdjson::SIMDJSON_PADDING) * 2;
        pad_buf = new char[pad_cap];
    }
    std::memcpy(pad_buf, msg, len);
    std::memset(pad_buf + len, 0, simdjson::SIMDJSON_PADDING);
    return pad_buf;
}

bool dom_walk(void *w, simdjson::dom::element arr)
{
    simdjson::dom::array a;
    if (arr.get_array().get(a) != simdjson::SUCCESS) {
        return false;
    }
    simdjson::dom::object obj;
    if (a.at(0).get_object().get(obj) != simdjson::SUCCESS) {
        return false;
    }
    tr_cjb_any_image(w);
    for (auto field : obj) {
        std::string_view k = field.key;
        if (field.value.is_null()) {
            tr_cjb_any_value(w, k.data(), k.size(), nullptr, 0);
            continue;
        }
        std::string_view v;
        if (field.value.get_string().get(v) != simdjson::SUCCESS) {
            return false;
        }
        tr_cjb_any_value(w, k.data(), k.size(), reinterpret_cast<const uint8_t *>(v.data()),
                         v.size());
    }
    return true;
}

bool od_walk(void *w, simdjson::ondemand::value arr)
{
    simdjson::ondemand::array a;
    if (arr.get_array().get(a) != simdjson::SUCCESS) {
        return false;
    }
    for (auto elem : a) {
        simdjson::ondemand::object obj;
        if (elem.get_object().get(obj) != simdjson::SUCCESS) {
            return false;
        }
        tr_cjb_any_image(w);
        for (auto field : obj) {
            std::string_view k;
            if (field.unescaped_key().get(k) != simdjson::SUCCESS) {
                return false;
            }
            simdjson::ondemand::value v = field.value();
            if (v.is_null()) {
                tr_cjb_any_value(w, k.data(), k.size(), nullptr, 0);
                continue;
            }
            std::string_view s;
            if (v.get_string().get(s) != simdjson::SUCCESS) {
                return false;
            }
            tr_cjb_any_value(w, k.data(), k.size(), reinterpret_cast<const uint8_t *>(s.data()),
                             s.size());
        }
        break; /* data/old hold one object */
    }
    return true;
}

} // namespace

bool tr_cjb_simdjson_dom_parse(void *w, const char *msg, size_t len)
{
    simdjson::dom::element root;
    if (dom_parser.parse(padded(msg, len), len, false).get(root) != simdjson::SUCCESS) {
        return false;
    }
    simdjson::dom::object o;
    if (root.get_object().get(o) != simdjson::SUCCESS) {
        return false;
    }
    tr_cjb_any_mix(w, o.size());
    return true;
}

bool tr_cjb_simdjson_dom_full(void *w, const char *msg, size_t len)
{
    simdjson::dom::element root;
    if (dom_parser.parse(padded(msg, len), len, false).get(root) != simdjson::SUCCESS) {
        return false;
    }
    std::string_view type;
    uint64_t ts = 0;
    if (root["type"].get_string().get(type) != simdjson::SUCCESS || type != "UPDATE" ||
        root["_tidb"]["commitTs"].get_uint64().get(ts) != simdjson::SUCCESS) {
        return false;
    }
    tr_cjb_any_head(w, ts);
    return dom_walk(w, root["old"].value_unsafe()) && dom_walk(w, root["data"].value_unsafe());
}

bool tr_cjb_simdjson_od_parse(void *w, const char *msg, size_t len)
{
    /* Only stage 1 and a walk over the top-level keys: On-Demand reads nothing more unless
     * asked, so this is not the same work as the DOMs' parse. */
    simdjson::padded_string_view in(padded(msg, len), len, len + simdjson::SIMDJSON_PADDING);
    simdjson::ondemand::document doc;
    if (od_parser.iterate(in).get(doc) != simdjson::SUCCESS) {
        return false;
    }
    simdjson::ondemand::object o;
    if (doc.get_object().get(o) != simdjson::SUCCESS) {
        return false;
    }
    uint64_t n = 0;
    for (auto field : o) {
        if (field.error() != simdjson::SUCCESS) {
            return false;
        }
        n++;
    }
    tr_cjb_any_mix(w, n);
    return true;
}

bool tr_cjb_simdjson_od_full(void *w, const char *msg, size_t len)
{
    simdjson::padded_string_view in(padded(msg, len), len, len + simdjson::SIMDJSON_PADDING);
    simdjson::ondemand::document doc;
    if (od_parser.iterate(in).get(doc) != simdjson::SUCCESS) {
        return false;
    }
    /* Fields in message order (tiflow's encoder): type, ..., old, data, _tidb. */
    std::string_view type;
    if (doc["type"].get_string().get(type) != simdjson::SUCCESS || type != "UPDATE") {
        return false;
    }
    simdjson::ondemand::value old;
    if (doc["old"].get(old) != simdjson::SUCCESS || !od_walk(w, old)) {
        return false;
    }
    simdjson::ondemand::value data;
    if (doc["data"].get(data) != simdjson::SUCCESS || !od_walk(w, data)) {
        return false;
    }
    uint64_t ts = 0;
    if (doc["_tidb"]["commitTs"].get_uint64().get(ts) != simdjson::SUCCESS) {
        return false;
    }
    tr_cjb_any_head(w, ts);
    return true;
}
