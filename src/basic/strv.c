/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>

#include "strv.h"

void strv_free(char **l)
{
        if (!l)
                return;
        for (char **s = l; *s; s++)
                free(*s);
        free(l);
}

size_t strv_length(char *const *l)
{
        size_t n = 0;

        while (l && l[n])
                n++;
        return n;
}

int strv_push(char ***l, char *s)
{
        size_t n = strv_length(*l);
        char **nl;

        if (!s)
                return -ENOMEM;
        nl = realloc(*l, (n + 2) * sizeof(char *));
        if (!nl) {
                free(s);
                return -ENOMEM;
        }
        nl[n] = s;
        nl[n + 1] = NULL;
        *l = nl;
        return 0;
}

int strv_extend(char ***l, const char *s)
{
        return strv_push(l, strdup(s));
}

bool strv_contains(char *const *l, const char *s)
{
        STRV_FOREACH (i, l)
                if (streq(*i, s))
                        return true;
        return false;
}

ssize_t strv_env_find(char *const *l, const char *key, size_t keylen)
{
        for (ssize_t i = 0; l && l[i]; i++)
                if (strncmp(l[i], key, keylen) == 0 && l[i][keylen] == '=')
                        return i;
        return -1;
}
