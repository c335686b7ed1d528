/* SPDX-License-Identifier: Apache-2.0 */
#include <limits.h>
#include <string.h>
#include <time.h>

#include "ctrlog.h"
#include "internal.h"

#define NS_PER_SEC 1000000000LL

static bool digits(const char *s, size_t n, int *out)
{
        int v = 0;

        for (size_t i = 0; i < n; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return false;
                v = v * 10 + (s[i] - '0');
        }
        *out = v;
        return true;
}

static bool leap(int y)
{
        return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
        static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

        return m == 2 && leap(y) ? 29 : days[m - 1];
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm). */
static int64_t days_from_civil(int y, int m, int d)
{
        int64_t era, yoe, doy, doe;

        y -= m <= 2;
        era = (y >= 0 ? y : y - 399) / 400;
        yoe = y - era * 400;
        doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
        doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        return era * 146097 + doe - 719468;
}

/* Fraction digits after the '.'; more than nine are accepted and cut. */
static size_t parse_fraction(const char *s, size_t len, int64_t *ns)
{
        size_t i = 0;
        int64_t v = 0, scale = 100000000;

        while (i < len && s[i] >= '0' && s[i] <= '9') {
                if (scale > 0) {
                        v += (s[i] - '0') * scale;
                        scale /= 10;
                }
                i++;
        }
        *ns = v;
        return i;
}

/* Broken-down time as read from text; zone_s is valid when has_zone. */
struct stamp {
        int year, mon, day, hour, min, sec;
        int64_t frac_ns;
        bool has_zone;
        int zone_s;
};

/* "Z", "z" or "+hh:mm"/"-hh:mm" filling the whole of s[0..len). */
static bool parse_zone(const char *s, size_t len, struct stamp *t)
{
        int h, m;

        if (len == 1 && (s[0] == 'Z' || s[0] == 'z')) {
                t->has_zone = true;
                t->zone_s = 0;
                return true;
        }
        if (len != 6 || (s[0] != '+' && s[0] != '-') || s[3] != ':' || !digits(s + 1, 2, &h) ||
            !digits(s + 4, 2, &m) || h > 23 || m > 59)
                return false;
        t->has_zone = true;
        t->zone_s = (h * 3600 + m * 60) * (s[0] == '-' ? -1 : 1);
        return true;
}

static bool stamp_valid(const struct stamp *t)
{
        return t->year >= 1 && t->mon >= 1 && t->mon <= 12 && t->day >= 1 &&
               t->day <= days_in_month(t->year, t->mon) && t->hour <= 23 && t->min <= 59 && t->sec <= 59;
}

static int64_t stamp_to_ns(const struct stamp *t)
{
        int64_t secs =
            days_from_civil(t->year, t->mon, t->day) * 86400 + t->hour * 3600 + t->min * 60 + t->sec;

        return (secs - t->zone_s) * NS_PER_SEC + t->frac_ns;
}

int ctrlog_parse_rfc3339(const char *s, size_t len, int64_t *out_ns)
{
        struct stamp t = {0};
        size_t i = 19;

        if (len < 20 || !digits(s, 4, &t.year) || s[4] != '-' || !digits(s + 5, 2, &t.mon) || s[7] != '-' ||
            !digits(s + 8, 2, &t.day) || (s[10] != 'T' && s[10] != 't') || !digits(s + 11, 2, &t.hour) ||
            s[13] != ':' || !digits(s + 14, 2, &t.min) || s[16] != ':' || !digits(s + 17, 2, &t.sec))
                return -EINVAL;
        if (s[i] == '.') {
                size_t n = parse_fraction(s + i + 1, len - i - 1, &t.frac_ns);
                if (n == 0)
                        return -EINVAL;
                i += 1 + n;
        }
        if (!parse_zone(s + i, len - i, &t) || !stamp_valid(&t))
                return -EINVAL;
        *out_ns = stamp_to_ns(&t);
        return 0;
}

/* Go's time.ParseDuration grammar: [-+]? (number unit)+, units ns us µs ms s m h; or "0". */
static bool parse_go_duration(const char *s, int64_t *out_ns)
{
        static const struct {
                const char *name;
                int64_t ns;
        } units[] = {
            {"ns", 1},       {"us", 1000},      {"\xc2\xb5s", 1000},    {"\xce\xbcs", 1000},
            {"ms", 1000000}, {"s", NS_PER_SEC}, {"m", 60 * NS_PER_SEC}, {"h", 3600 * NS_PER_SEC},
        };
        bool neg = false;
        long double total = 0;

        if (*s == '-' || *s == '+')
                neg = *s++ == '-';
        if (streq(s, "0")) {
                *out_ns = 0;
                return true;
        }
        if (!*s)
                return false;
        while (*s) {
                long double v = 0, scale = 1;
                bool any = false;
                size_t best = 0;
                int64_t unit = 0;

                while (*s >= '0' && *s <= '9') {
                        v = v * 10 + (*s++ - '0');
                        any = true;
                }
                if (*s == '.') {
                        s++;
                        while (*s >= '0' && *s <= '9') {
                                scale /= 10;
                                v += (*s++ - '0') * scale;
                                any = true;
                        }
                }
                if (!any)
                        return false;
                /* Longest unit name that matches ("ms" before "m"). */
                for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
                        size_t n = strlen(units[i].name);
                        if (n > best && strneq(s, units[i].name, n)) {
                                best = n;
                                unit = units[i].ns;
                        }
                }
                if (!best)
                        return false;
                s += best;
                total += v * (long double)unit;
                if (total > (long double)INT64_MAX)
                        return false;
        }
        *out_ns = (int64_t)total * (neg ? -1 : 1);
        return true;
}

/* "seconds[.fraction]" since the epoch. */
static bool parse_unix(const char *s, int64_t *out_ns)
{
        int64_t sec = 0, frac = 0;
        const char *p = s;

        if (!*p)
                return false;
        while (*p >= '0' && *p <= '9') {
                if (sec > (INT64_MAX / NS_PER_SEC) / 10)
                        return false;
                sec = sec * 10 + (*p++ - '0');
        }
        if (p == s)
                return false;
        if (*p == '.') {
                size_t n = parse_fraction(p + 1, strlen(p + 1), &frac);
                if (n == 0 || p[1 + n])
                        return false;
        } else if (*p) {
                return false;
        }
        *out_ns = sec * NS_PER_SEC + frac;
        return true;
}

/* YYYY-MM-DD[Thh[:mm[:ss[.frac]]]][zone]; without a zone the time is local. */
static bool parse_date_time(const char *s, int64_t *out_ns)
{
        struct stamp t = {0};
        size_t len = strlen(s), i = 10;

        if (len < 10 || !digits(s, 4, &t.year) || s[4] != '-' || !digits(s + 5, 2, &t.mon) || s[7] != '-' ||
            !digits(s + 8, 2, &t.day))
                return false;
        if (i < len && (s[i] == 'T' || s[i] == 't')) {
                int *fields[] = {&t.hour, &t.min, &t.sec};
                i++;
                for (size_t f = 0; f < ARRAY_SIZE(fields); f++) {
                        if (f > 0) {
                                if (i >= len || s[i] != ':')
                                        break;
                                i++;
                        }
                        if (i + 2 > len || !digits(s + i, 2, fields[f]))
                                return false;
                        i += 2;
                }
                if (i < len && s[i] == '.') {
                        size_t n = parse_fraction(s + i + 1, len - i - 1, &t.frac_ns);
                        if (n == 0)
                                return false;
                        i += 1 + n;
                }
        }
        if (i < len && !parse_zone(s + i, len - i, &t))
                return false;
        if (!stamp_valid(&t))
                return false;
        if (!t.has_zone) {
                struct tm tm = {.tm_year = t.year - 1900,
                                .tm_mon = t.mon - 1,
                                .tm_mday = t.day,
                                .tm_hour = t.hour,
                                .tm_min = t.min,
                                .tm_sec = t.sec,
                                .tm_isdst = -1};
                time_t secs = mktime(&tm);
                if (secs == (time_t)-1)
                        return false;
                *out_ns = (int64_t)secs * NS_PER_SEC + t.frac_ns;
                return true;
        }
        *out_ns = stamp_to_ns(&t);
        return true;
}

int ctrlog_parse_since(const char *s, int64_t now_ns, int64_t *out, struct berr **err)
{
        int64_t v;

        if (!streq(s, "0") && parse_go_duration(s, &v)) {
                *out = now_ns - v;
                return 0;
        }
        if (parse_unix(s, &v) || parse_date_time(s, &v)) {
                *out = v;
                return 0;
        }
        return berr_make(
            err, EINVAL,
            "`%s` is neither a time (RFC 3339, Unix seconds) nor a duration (such as 10m or 1h30m)", s);
}

int ctrlog_parse_tail(const char *s, long *out, struct berr **err)
{
        long v = 0;

        if (streq(s, "all")) {
                *out = -1;
                return 0;
        }
        if (!*s)
                return berr_plain(err, EINVAL, "empty --tail value");
        for (const char *p = s; *p; p++) {
                if (*p < '0' || *p > '9' || v > (LONG_MAX - 9) / 10)
                        return berr_plain(err, EINVAL, "--tail `%s` is neither \"all\" nor a line count", s);
                v = v * 10 + (*p - '0');
        }
        *out = v;
        return 0;
}
