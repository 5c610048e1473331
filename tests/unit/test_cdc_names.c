/*
 * Unit tests of the TiCDC name interning (src/relay/cdc_names.c): one id per distinct
 * table name and per distinct column layout (names and types in order), stable entries,
 * ids from 1 and growth past the first page and the hash table's first size.
 */
#include <stdio.h>
#include <string.h>

#include "relay/cdc_names.h"
#include "tr_test.h"

static tr_slice_t S(const char *s)
{
    return tr_slice(s, strlen(s));
}

TR_TEST(cdc_names_tables)
{
    tr_cdc_names_t *n = tr_cdc_names_new();
    uint32_t a = tr_cdc_names_table(n, "db", 2, "t", 1);
    uint32_t b = tr_cdc_names_table(n, "db", 2, "u", 1);
    uint32_t c = tr_cdc_names_table(n, "dbt", 3, "", 0); /* not "db" + "t" */
    EXPECT_EQ_INT(a, 1);
    EXPECT_EQ_INT(b, 2);
    EXPECT_EQ_INT(c, 3);
    EXPECT_EQ_INT(tr_cdc_names_table(n, "db", 2, "t", 1), a);
    const tr_cdc_table_name_t *t = tr_cdc_names_table_get(n, b);
    EXPECT_EQ_STR(t->db, "db");
    EXPECT_EQ_STR(t->table, "u");
    EXPECT_TRUE(tr_cdc_names_table_get(n, 0) == NULL);
    EXPECT_TRUE(tr_cdc_names_table_get(n, 99) == NULL);
    char name[32];
    for (int i = 0; i < 5000; i++) {
        int len = snprintf(name, sizeof(name), "t%d", i);
        uint32_t id = tr_cdc_names_table(n, "x", 1, name, (size_t)len);
        EXPECT_EQ_INT(id, (uint32_t)(4 + i));
    }
    EXPECT_EQ_STR(tr_cdc_names_table_get(n, 4 + 4321)->table, "t4321");
    EXPECT_EQ_INT(tr_cdc_names_table(n, "x", 1, "t17", 3), 4 + 17);
    tr_cdc_names_free(n);
}

TR_TEST(cdc_names_layouts)
{
    tr_cdc_names_t *n = tr_cdc_names_new();
    tr_slice_t names[] = {S("id"), S("v")};
    tr_slice_t types[] = {S("int"), S("varchar")};
    tr_slice_t types2[] = {S("bigint"), S("varchar")};
    tr_slice_t names2[] = {S("v"), S("id")};
    uint32_t a = tr_cdc_names_layout(n, names, types, 2);
    uint32_t b = tr_cdc_names_layout(n, names, types2, 2); /* a type changed: another layout */
    uint32_t c = tr_cdc_names_layout(n, names2, types, 2); /* order matters */
    uint32_t d = tr_cdc_names_layout(n, names, types, 1);
    EXPECT_TRUE(a != b && a != c && b != c && d != a);
    EXPECT_EQ_INT(tr_cdc_names_layout(n, names, types, 2), a);
    const tr_cdc_layout_t *l = tr_cdc_names_layout_get(n, b);
    EXPECT_EQ_INT(l->n, 2);
    EXPECT_EQ_STR(l->names[1], "v");
    EXPECT_EQ_STR(l->types[0], "bigint");
    EXPECT_EQ_INT(l->type_lens[0], 6);
    uint32_t e = tr_cdc_names_layout(n, NULL, NULL, 0);
    EXPECT_EQ_INT(tr_cdc_names_layout_get(n, e)->n, 0);
    tr_cdc_names_free(n);
}

TR_TEST_MAIN()
