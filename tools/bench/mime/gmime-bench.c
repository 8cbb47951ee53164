/* GMime 3 side of tools/bench/mime: the same corpus and the same three modes as
 * bench-mime, one JSON line per mode.
 * Build: cc -O2 gmime-bench.c $(pkg-config --cflags --libs gmime-3.0) -o gmime-bench */
#include <gmime/gmime.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct { char *data; size_t len; } Msg;
static volatile long sink;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static GMimeMessage *parse(const char *data, size_t len) {
    GMimeStream *stream = g_mime_stream_mem_new_with_buffer(data, len);
    GMimeParser *parser = g_mime_parser_new_with_stream(stream);
    GMimeMessage *m = g_mime_parser_construct_message(parser, NULL);
    g_object_unref(parser);
    g_object_unref(stream);
    return m;
}

static long mode_headers(Msg *m) {
    /* Header block only: bytes up to the first empty line. */
    const char *end = strstr(m->data, "\r\n\r\n");
    size_t len = end ? (size_t)(end - m->data) + 4 : m->len;
    GMimeMessage *msg = parse(m->data, len);
    long n = 0;
    if (msg) {
        const char *subject = g_mime_message_get_subject(msg);
        n += subject ? strlen(subject) : 0;
        InternetAddressList *from = g_mime_message_get_from(msg);
        n += from ? internet_address_list_length(from) : 0;
        GDateTime *date = g_mime_message_get_date(msg);
        n += date ? g_date_time_get_day_of_month(date) : 0;
        g_object_unref(msg);
    }
    return n;
}

static void count_part(GMimeObject *parent, GMimeObject *part, gpointer data) {
    GMimeContentType *ct = g_mime_object_get_content_type(part);
    *(long *)data += strlen(g_mime_content_type_get_media_subtype(ct));
}

static long mode_structure(Msg *m) {
    GMimeMessage *msg = parse(m->data, m->len);
    long n = 0;
    if (msg) {
        g_mime_message_foreach(msg, count_part, &n);
        g_object_unref(msg);
    }
    return n;
}

static void decode_part(GMimeObject *parent, GMimeObject *part, gpointer data) {
    if (GMIME_IS_TEXT_PART(part)) {
        char *text = g_mime_text_part_get_text((GMimeTextPart *)part);
        if (text) { *(long *)data += strlen(text); g_free(text); }
    } else if (GMIME_IS_PART(part)) {
        GMimeDataWrapper *content = g_mime_part_get_content((GMimePart *)part);
        if (content) {
            GMimeStream *out = g_mime_stream_mem_new();
            g_mime_data_wrapper_write_to_stream(content, out);
            *(long *)data += g_mime_stream_length(out);
            g_object_unref(out);
        }
    }
}

static long mode_decode(Msg *m) {
    GMimeMessage *msg = parse(m->data, m->len);
    long n = 0;
    if (msg) {
        g_mime_message_foreach(msg, decode_part, &n);
        g_object_unref(msg);
    }
    return n;
}

static const char *corpus_name = "";

static void measure(const char *name, Msg *msgs, int count, size_t total, double seconds, long (*fn)(Msg *)) {
    for (int i = 0; i < count; i++) sink += fn(&msgs[i]);
    int rounds = 0;
    double start = now();
    do {
        for (int i = 0; i < count; i++) sink += fn(&msgs[i]);
        rounds++;
    } while (now() - start < seconds);
    double mbps = (double)total * rounds / (now() - start) / 1e6;
    printf("{\"name\":\"mime_parse\",\"parameters\":{\"library\":\"gmime-%d.%d.%d\",\"mode\":\"%s\",\"corpus\":\"%s\",\"messages\":%d,\"corpus_bytes\":%zu,\"rounds\":%d},\"result\":%.1f,\"unit\":\"MB/s\"}\n",
           gmime_major_version, gmime_minor_version, gmime_micro_version, name, corpus_name, count, total, rounds, mbps);
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: gmime-bench DIR [SECONDS]\n"); return 2; }
    double seconds = argc > 2 ? atof(argv[2]) : 3;
    g_mime_init();
    corpus_name = strrchr(argv[1], '/') ? strrchr(argv[1], '/') + 1 : argv[1];
    DIR *d = opendir(argv[1]);
    if (!d) { perror(argv[1]); return 1; }
    char *names[100000];
    int count = 0;
    struct dirent *e;
    while ((e = readdir(d)) && count < 100000)
        if (strstr(e->d_name, ".eml")) names[count++] = strdup(e->d_name);
    closedir(d);
    qsort(names, count, sizeof(char *), cmp);
    Msg *msgs = calloc(count, sizeof(Msg));
    size_t total = 0;
    for (int i = 0; i < count; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", argv[1], names[i]);
        gchar *data; gsize len;
        if (!g_file_get_contents(path, &data, &len, NULL)) return 1;
        msgs[i].data = data; msgs[i].len = len;
        total += len;
    }
    measure("headers", msgs, count, total, seconds, mode_headers);
    measure("structure", msgs, count, total, seconds, mode_structure);
    measure("decode", msgs, count, total, seconds, mode_decode);
    return 0;
}
