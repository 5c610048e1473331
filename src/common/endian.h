/*
 * Little- and big-endian loads and stores on byte pointers. No pointer-cast
 * loads anywhere in the project: use these. Pure.
 */
#ifndef TR_COMMON_ENDIAN_H
#define TR_COMMON_ENDIAN_H

#include <stdint.h>

static inline uint16_t tr_load_u16le(const uint8_t *p)
{
    return (uint16_t)(p[0] | ((uint16_t)p[1] << 8));
}
static inline uint32_t tr_load_u24le(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16);
}
static inline uint32_t tr_load_u32le(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static inline uint64_t tr_load_u48le(const uint8_t *p)
{
    return (uint64_t)tr_load_u32le(p) | ((uint64_t)tr_load_u16le(p + 4) << 32);
}
static inline uint64_t tr_load_u64le(const uint8_t *p)
{
    return (uint64_t)tr_load_u32le(p) | ((uint64_t)tr_load_u32le(p + 4) << 32);
}
static inline uint16_t tr_load_u16be(const uint8_t *p)
{
    return (uint16_t)(((uint16_t)p[0] << 8) | p[1]);
}
static inline uint32_t tr_load_u32be(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}
static inline uint64_t tr_load_u64be(const uint8_t *p)
{
    return ((uint64_t)tr_load_u32be(p) << 32) | tr_load_u32be(p + 4);
}

static inline void tr_store_u16le(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static inline void tr_store_u24le(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
}
static inline void tr_store_u32le(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}
static inline void tr_store_u48le(uint8_t *p, uint64_t v)
{
    tr_store_u32le(p, (uint32_t)v);
    tr_store_u16le(p + 4, (uint16_t)(v >> 32));
}
static inline void tr_store_u64le(uint8_t *p, uint64_t v)
{
    tr_store_u32le(p, (uint32_t)v);
    tr_store_u32le(p + 4, (uint32_t)(v >> 32));
}
static inline void tr_store_u16be(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}
static inline void tr_store_u32be(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}
static inline void tr_store_u64be(uint8_t *p, uint64_t v)
{
    tr_store_u32be(p, (uint32_t)(v >> 32));
    tr_store_u32be(p + 4, (uint32_t)v);
}

#endif
