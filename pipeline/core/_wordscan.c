/* One compiled pass over a text for the classifier: split it into words, fold each word and
 * look up the phrases it anchors, remembering every distinct word it has seen.
 *
 * The Python module pipeline.core.wordscan owns the meaning; this file only makes it fast and
 * gives the same answers as the pure-Python scanner there (a test holds both to that):
 *
 *   Scanner(fold, lookup, limit) -> scanner
 *   scanner.scan(text, base=0) -> (folded, positions, entries, spans)
 *   find_phrases(words, positions, entries, title_words) -> {phrase id: [(start, end), ...]}
 *
 * A word is a run of characters for which str.isalnum() holds (the regular expression
 * [^\W_]+). ``folded`` lists fold(word) for every word; ``positions`` the word numbers (from
 * ``base``) whose folded form has an entry (lookup(folded) is not None), ``entries`` those
 * entries; ``spans`` is bytes of native int32 pairs, each word's [start, end) in ``text``.
 *
 * fold and lookup are called once per distinct word as written; the results are kept in an
 * open-addressing table keyed by the word's code points, so a word seen before costs a hash
 * of its characters and one probe, and no string is made for it. The table is emptied when
 * it holds ``limit`` words.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* One distinct word as written. A slot is one 64-byte cache line: a word of up to 24 bytes
 * (24 Latin letters, 12 Cyrillic) is compared against the text without leaving it. */
#define INLINE_BYTES 24
typedef struct {
    uint64_t hash; /* 0: empty */
    PyObject *folded;
    PyObject *entry; /* Py_None when the word anchors nothing */
    PyObject *raw;   /* the word as written */
    uint32_t length; /* in characters */
    uint32_t kind;   /* bytes per character of raw */
    unsigned char chars[INLINE_BYTES]; /* raw's characters, when they fit */
} Slot;

typedef struct {
    PyObject_HEAD
    PyObject *fold;
    PyObject *lookup;
    Slot *slots; /* 64-byte aligned */
    Py_ssize_t capacity; /* a power of two */
    Py_ssize_t used;
    Py_ssize_t limit;
} Scanner;

/* str.isalnum() of the first WORD_TABLE code points (Latin, Greek, Cyrillic, Armenian,
 * Georgian, punctuation...), worked out once; the rest ask Python's character database. */
#define WORD_TABLE 0x3000
static unsigned char word_table[WORD_TABLE];

static inline int
is_word(Py_UCS4 ch)
{
    if (ch < WORD_TABLE) {
        return word_table[ch];
    }
    return Py_UNICODE_ISALNUM(ch);
}

/* A word's hash: its characters rotated in (one cheap step each), then mixed once (the
 * finaliser of MurmurHash3), never 0, which marks an empty slot. */
static inline uint64_t
mix(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h ? h : 1;
}

static Slot *
slots_new(Py_ssize_t capacity)
{
    void *memory = NULL;
    size_t size = (size_t)capacity * sizeof(Slot);
    if (posix_memalign(&memory, 64, size) != 0) {
        PyErr_NoMemory();
        return NULL;
    }
    memset(memory, 0, size);
    return memory;
}

static void
slots_release(Slot *slots, Py_ssize_t capacity)
{
    for (Py_ssize_t i = 0; i < capacity; i++) {
        if (slots[i].hash) {
            Py_CLEAR(slots[i].raw);
            Py_CLEAR(slots[i].folded);
            Py_CLEAR(slots[i].entry);
            slots[i].hash = 0;
        }
    }
}

static int
table_init(Scanner *self, Py_ssize_t capacity)
{
    Slot *slots = slots_new(capacity);
    if (slots == NULL) {
        return -1;
    }
    self->slots = slots;
    self->capacity = capacity;
    self->used = 0;
    return 0;
}

static void
table_clear(Scanner *self)
{
    if (self->slots != NULL) {
        Slot *slots = self->slots;
        Py_ssize_t capacity = self->capacity;
        self->slots = NULL;
        self->capacity = 0;
        self->used = 0;
        slots_release(slots, capacity);
        free(slots);
    }
}

static int
table_grow(Scanner *self)
{
    Py_ssize_t capacity = self->capacity * 2;
    Slot *slots = slots_new(capacity);
    if (slots == NULL) {
        return -1;
    }
    uint64_t mask = (uint64_t)capacity - 1;
    for (Py_ssize_t i = 0; i < self->capacity; i++) {
        Slot *old = &self->slots[i];
        if (!old->hash) {
            continue;
        }
        uint64_t at = old->hash & mask;
        while (slots[at].hash) {
            at = (at + 1) & mask;
        }
        slots[at] = *old;
    }
    free(self->slots);
    self->slots = slots;
    self->capacity = capacity;
    return 0;
}

/* The slot holding text[start:end], or NULL. */
static inline Slot *
table_find(Scanner *self, int kind, const void *data, Py_ssize_t start, Py_ssize_t end,
           uint64_t hash)
{
    uint64_t mask = (uint64_t)self->capacity - 1;
    uint64_t at = hash & mask;
    Py_ssize_t length = end - start;
    const unsigned char *text = (const unsigned char *)data + start * kind;
    for (;;) {
        Slot *slot = &self->slots[at];
        if (!slot->hash) {
            return NULL;
        }
        if (slot->hash == hash && slot->length == (uint32_t)length) {
            int raw_kind = (int)slot->kind;
            const void *raw_data = length * raw_kind <= INLINE_BYTES
                                       ? (const void *)slot->chars
                                       : PyUnicode_DATA(slot->raw);
            if (raw_kind == kind) {
                if (memcmp(raw_data, text, (size_t)(length * kind)) == 0) {
                    return slot;
                }
            }
            else {
                Py_ssize_t k = 0;
                while (k < length
                       && PyUnicode_READ(raw_kind, raw_data, k) == PyUnicode_READ(kind, text, k)) {
                    k++;
                }
                if (k == length) {
                    return slot;
                }
            }
        }
        at = (at + 1) & mask;
    }
}

/* Fold and look up a word not in the table, and keep the results. */
static Slot *
table_add(Scanner *self, PyObject *text, Py_ssize_t start, Py_ssize_t end, uint64_t hash)
{
    PyObject *raw = PyUnicode_Substring(text, start, end);
    if (raw == NULL) {
        return NULL;
    }
    PyObject *folded = PyObject_CallOneArg(self->fold, raw);
    if (folded == NULL) {
        Py_DECREF(raw);
        return NULL;
    }
    if (!PyUnicode_Check(folded)) {
        PyErr_SetString(PyExc_TypeError, "fold must return a str");
        Py_DECREF(raw);
        Py_DECREF(folded);
        return NULL;
    }
    PyObject *entry = PyObject_CallOneArg(self->lookup, folded);
    if (entry == NULL) {
        Py_DECREF(raw);
        Py_DECREF(folded);
        return NULL;
    }
    /* The calls above ran Python code, which may have used this scanner: look again. */
    if (self->slots == NULL || self->used >= self->limit) {
        table_clear(self);
        if (table_init(self, 1024) < 0) {
            goto error;
        }
    }
    else if ((self->used + 1) * 4 > self->capacity * 3) { /* at most three quarters full */
        if (table_grow(self) < 0) {
            goto error;
        }
    }
    Slot *slot = table_find(self, PyUnicode_KIND(text), PyUnicode_DATA(text), start, end, hash);
    if (slot != NULL) {
        Py_DECREF(raw);
        Py_DECREF(folded);
        Py_DECREF(entry);
        return slot;
    }
    uint64_t mask = (uint64_t)self->capacity - 1;
    uint64_t at = hash & mask;
    while (self->slots[at].hash) {
        at = (at + 1) & mask;
    }
    slot = &self->slots[at];
    slot->hash = hash;
    slot->raw = raw;
    slot->folded = folded;
    slot->entry = entry;
    slot->length = (uint32_t)(end - start);
    slot->kind = (uint32_t)PyUnicode_KIND(raw);
    if (slot->length * slot->kind <= INLINE_BYTES) {
        memcpy(slot->chars, PyUnicode_DATA(raw), slot->length * slot->kind);
    }
    self->used++;
    return slot;
error:
    Py_DECREF(raw);
    Py_DECREF(folded);
    Py_DECREF(entry);
    return NULL;
}

/* How many words ahead the table is asked to bring a word's slot into the cache. */
#define PREFETCH_AHEAD 6

/* The words of text: appended to the lists, spans into *spans; the number of words, or -1.
 * Two passes: the first finds the words and hashes them, the second looks them up while the
 * slots of the words a few places ahead are already on their way from memory. Inlined once
 * per string kind, so each copy reads its characters directly. */
static inline __attribute__((always_inline)) Py_ssize_t
scan_words(Scanner *self, PyObject *text, const int kind, Py_ssize_t base, PyObject *folded,
           PyObject *positions, PyObject *entries, int32_t **spans_out, uint64_t **hashes_out,
           Py_ssize_t *capacity_out)
{
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    Py_ssize_t i = 0, count = 0;
    int32_t *spans = *spans_out;
    uint64_t *hashes = *hashes_out;
    while (i < n) {
        Py_UCS4 ch = PyUnicode_READ(kind, data, i);
        if (!is_word(ch)) {
            i++;
            continue;
        }
        Py_ssize_t start = i;
        uint64_t hash = 0;
        do {
            hash = ((hash << 7) | (hash >> 57)) ^ ch;
            i++;
        } while (i < n && is_word(ch = PyUnicode_READ(kind, data, i)));
        if (count == *capacity_out) {
            Py_ssize_t capacity = count ? count * 2 : 128;
            int32_t *more_spans = PyMem_Realloc(spans, (size_t)capacity * 2 * sizeof(int32_t));
            if (more_spans != NULL) {
                spans = *spans_out = more_spans;
            }
            uint64_t *more_hashes = PyMem_Realloc(hashes, (size_t)capacity * sizeof(uint64_t));
            if (more_hashes != NULL) {
                hashes = *hashes_out = more_hashes;
            }
            if (more_spans == NULL || more_hashes == NULL) {
                PyErr_NoMemory();
                return -1;
            }
            *capacity_out = capacity;
        }
        spans[2 * count] = (int32_t)start;
        spans[2 * count + 1] = (int32_t)i;
        hashes[count] = mix(hash ^ (uint64_t)(i - start));
        count++;
    }
    for (Py_ssize_t k = 0; k < count; k++) {
        if (k + PREFETCH_AHEAD < count && self->slots != NULL) {
            uint64_t mask = (uint64_t)self->capacity - 1;
            __builtin_prefetch(&self->slots[hashes[k + PREFETCH_AHEAD] & mask]);
        }
        Py_ssize_t start = spans[2 * k], end = spans[2 * k + 1];
        Slot *slot = table_find(self, kind, data, start, end, hashes[k]);
        if (slot == NULL) {
            slot = table_add(self, text, start, end, hashes[k]);
            if (slot == NULL) {
                return -1;
            }
        }
        if (PyList_Append(folded, slot->folded) < 0) {
            return -1;
        }
        if (slot->entry != Py_None) {
            PyObject *position = PyLong_FromSsize_t(base + k);
            if (position == NULL) {
                return -1;
            }
            int failed = PyList_Append(positions, position) < 0;
            Py_DECREF(position);
            if (failed || PyList_Append(entries, slot->entry) < 0) {
                return -1;
            }
        }
    }
    return count;
}

static PyObject *
Scanner_scan(Scanner *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs < 1 || nargs > 2) {
        PyErr_SetString(PyExc_TypeError, "scan(text, base=0)");
        return NULL;
    }
    PyObject *text = args[0];
    if (!PyUnicode_Check(text)) {
        PyErr_Format(PyExc_TypeError, "scan() needs a str, not %.100s", Py_TYPE(text)->tp_name);
        return NULL;
    }
    Py_ssize_t base = 0;
    if (nargs == 2) {
        base = PyLong_AsSsize_t(args[1]);
        if (base == -1 && PyErr_Occurred()) {
            return NULL;
        }
    }
    if (PyUnicode_GET_LENGTH(text) > INT32_MAX) {
        PyErr_SetString(PyExc_ValueError, "text too long for scan()");
        return NULL;
    }
    Py_INCREF(text); /* callbacks run Python code: keep the text alive */
    PyObject *folded = PyList_New(0);
    PyObject *positions = PyList_New(0);
    PyObject *entries = PyList_New(0);
    int32_t *spans = NULL;
    uint64_t *hashes = NULL;
    Py_ssize_t capacity = 0, count = 0;
    PyObject *result = NULL;
    if (folded == NULL || positions == NULL || entries == NULL) {
        goto done;
    }
    if (self->slots == NULL && table_init(self, 1024) < 0) {
        goto done;
    }
    switch (PyUnicode_KIND(text)) {
    case PyUnicode_1BYTE_KIND:
        count = scan_words(self, text, PyUnicode_1BYTE_KIND, base, folded, positions, entries,
                           &spans, &hashes, &capacity);
        break;
    case PyUnicode_2BYTE_KIND:
        count = scan_words(self, text, PyUnicode_2BYTE_KIND, base, folded, positions, entries,
                           &spans, &hashes, &capacity);
        break;
    default:
        count = scan_words(self, text, PyUnicode_4BYTE_KIND, base, folded, positions, entries,
                           &spans, &hashes, &capacity);
    }
    if (count < 0) {
        goto done;
    }
    PyObject *span_bytes = PyBytes_FromStringAndSize(
        (const char *)spans, (Py_ssize_t)(2 * count * (Py_ssize_t)sizeof(int32_t)));
    if (span_bytes == NULL) {
        goto done;
    }
    result = PyTuple_Pack(4, folded, positions, entries, span_bytes);
    Py_DECREF(span_bytes);
done:
    PyMem_Free(spans);
    PyMem_Free(hashes);
    Py_XDECREF(folded);
    Py_XDECREF(positions);
    Py_XDECREF(entries);
    Py_DECREF(text);
    return result;
}

static PyObject *
Scanner_clear(Scanner *self, PyObject *Py_UNUSED(ignored))
{
    table_clear(self);
    Py_RETURN_NONE;
}

static Py_ssize_t
Scanner_len(Scanner *self)
{
    return self->used;
}

static int
Scanner_init(Scanner *self, PyObject *args, PyObject *kwargs)
{
    static char *keywords[] = {"fold", "lookup", "limit", NULL};
    PyObject *fold, *lookup;
    Py_ssize_t limit = 150000;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO|n", keywords, &fold, &lookup, &limit)) {
        return -1;
    }
    if (!PyCallable_Check(fold) || !PyCallable_Check(lookup)) {
        PyErr_SetString(PyExc_TypeError, "fold and lookup must be callables");
        return -1;
    }
    if (limit < 1) {
        PyErr_SetString(PyExc_ValueError, "limit must be at least 1");
        return -1;
    }
    table_clear(self);
    Py_INCREF(fold);
    Py_XSETREF(self->fold, fold);
    Py_INCREF(lookup);
    Py_XSETREF(self->lookup, lookup);
    self->limit = limit;
    return 0;
}

static int
Scanner_traverse(Scanner *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(self->fold);
    Py_VISIT(self->lookup);
    for (Py_ssize_t i = 0; i < self->capacity; i++) {
        if (self->slots[i].hash) {
            Py_VISIT(self->slots[i].entry);
        }
    }
    return 0;
}

static int
Scanner_tp_clear(Scanner *self)
{
    Py_CLEAR(self->fold);
    Py_CLEAR(self->lookup);
    table_clear(self);
    return 0;
}

static void
Scanner_dealloc(Scanner *self)
{
    PyTypeObject *type = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    Scanner_tp_clear(self);
    type->tp_free((PyObject *)self);
    Py_DECREF(type);
}

static PyMethodDef Scanner_methods[] = {
    {"scan", (PyCFunction)(void (*)(void))Scanner_scan, METH_FASTCALL,
     "scan(text, base=0) -> (folded, positions, entries, spans)"},
    {"clear", (PyCFunction)Scanner_clear, METH_NOARGS, "Forget every word seen."},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot Scanner_type_slots[] = {
    {Py_tp_doc, "Splits, folds and looks up words in one pass (see pipeline.core.wordscan)."},
    {Py_tp_new, PyType_GenericNew},
    {Py_tp_init, Scanner_init},
    {Py_tp_dealloc, Scanner_dealloc},
    {Py_tp_traverse, Scanner_traverse},
    {Py_tp_clear, Scanner_tp_clear},
    {Py_tp_methods, Scanner_methods},
    {Py_sq_length, Scanner_len},
    {Py_mp_length, Scanner_len},
    {0, NULL},
};

static PyType_Spec Scanner_spec = {
    .name = "pipeline.core._wordscan.Scanner",
    .basicsize = sizeof(Scanner),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_BASETYPE,
    .slots = Scanner_type_slots,
};

/* --- find_phrases: the phrases around each anchor (layout in pipeline/core/wordscan.py) --- */

static int
check_anchors(PyObject *found, PyObject *anchors, PyObject *words, Py_ssize_t i, Py_ssize_t n,
              Py_ssize_t title_words)
{
    if (!PyTuple_Check(anchors)) {
        PyErr_SetString(PyExc_TypeError, "anchors must be a tuple");
        return -1;
    }
    for (Py_ssize_t a = 0; a < PyTuple_GET_SIZE(anchors); a++) {
        PyObject *anchor = PyTuple_GET_ITEM(anchors, a);
        if (!PyTuple_Check(anchor) || PyTuple_GET_SIZE(anchor) != 4) {
            PyErr_SetString(PyExc_TypeError, "an anchor is (phrase id, at, length, others)");
            return -1;
        }
        Py_ssize_t at = PyLong_AsSsize_t(PyTuple_GET_ITEM(anchor, 1));
        Py_ssize_t length = PyLong_AsSsize_t(PyTuple_GET_ITEM(anchor, 2));
        if ((at == -1 || length == -1) && PyErr_Occurred()) {
            return -1;
        }
        Py_ssize_t start = i - at, end = start + length - 1;
        if (start < 0 || end >= n || (start < title_words && title_words <= end)) {
            continue;
        }
        PyObject *others = PyTuple_GET_ITEM(anchor, 3);
        if (!PyTuple_Check(others)) {
            PyErr_SetString(PyExc_TypeError, "an anchor's other words must be a tuple");
            return -1;
        }
        int matched = 1;
        for (Py_ssize_t k = 0; matched && k < PyTuple_GET_SIZE(others); k++) {
            PyObject *other = PyTuple_GET_ITEM(others, k);
            if (!PyTuple_Check(other) || PyTuple_GET_SIZE(other) != 3) {
                PyErr_SetString(PyExc_TypeError, "another word is (offset, exact, prefixes)");
                return -1;
            }
            Py_ssize_t offset = PyLong_AsSsize_t(PyTuple_GET_ITEM(other, 0));
            if (offset == -1 && PyErr_Occurred()) {
                return -1;
            }
            Py_ssize_t j = i + offset;
            if (j < start || j > end) {
                PyErr_SetString(PyExc_ValueError, "an offset points outside its phrase");
                return -1;
            }
            PyObject *word = PyList_GET_ITEM(words, j);
            int hit = PySet_Contains(PyTuple_GET_ITEM(other, 1), word);
            if (hit < 0) {
                return -1;
            }
            if (!hit) {
                PyObject *prefixes = PyTuple_GET_ITEM(other, 2);
                Py_ssize_t count = PyTuple_GET_SIZE(prefixes);
                for (Py_ssize_t p = 0; !hit && p < count; p++) {
                    Py_ssize_t r = PyUnicode_Tailmatch(word, PyTuple_GET_ITEM(prefixes, p), 0,
                                                       PY_SSIZE_T_MAX, -1);
                    if (r < 0) {
                        return -1;
                    }
                    hit = (int)r;
                }
            }
            matched = hit;
        }
        if (!matched) {
            continue;
        }
        PyObject *pid = PyTuple_GET_ITEM(anchor, 0);
        PyObject *spans = PyDict_GetItemWithError(found, pid);
        if (spans == NULL) {
            if (PyErr_Occurred()) {
                return -1;
            }
            spans = PyList_New(0);
            if (spans == NULL) {
                return -1;
            }
            int failed = PyDict_SetItem(found, pid, spans) < 0;
            Py_DECREF(spans);
            if (failed) {
                return -1;
            }
        }
        PyObject *span = PyTuple_New(2);
        if (span == NULL) {
            return -1;
        }
        PyObject *first = PyLong_FromSsize_t(start), *last = PyLong_FromSsize_t(end);
        if (first == NULL || last == NULL) {
            Py_XDECREF(first);
            Py_XDECREF(last);
            Py_DECREF(span);
            return -1;
        }
        PyTuple_SET_ITEM(span, 0, first);
        PyTuple_SET_ITEM(span, 1, last);
        int failed = PyList_Append(spans, span) < 0;
        Py_DECREF(span);
        if (failed) {
            return -1;
        }
    }
    return 0;
}

/* The position of the word a group of an entry keys on: (offset, table[, lengths]) relative to
 * the anchor at i; -1 when it falls outside the words, -2 on an error. */
static Py_ssize_t
neighbour(PyObject *group, Py_ssize_t size, Py_ssize_t i, Py_ssize_t n)
{
    if (!PyTuple_Check(group) || PyTuple_GET_SIZE(group) != size) {
        PyErr_Format(PyExc_TypeError, "a group of an entry is a tuple of %zd", size);
        return -2;
    }
    Py_ssize_t offset = PyLong_AsSsize_t(PyTuple_GET_ITEM(group, 0));
    if (offset == -1 && PyErr_Occurred()) {
        return -2;
    }
    Py_ssize_t j = i + offset;
    return j < 0 || j >= n ? -1 : j;
}

/* The phrases a group files under key (a neighbour word, or its prefix), checked. */
static int
check_keyed(PyObject *found, PyObject *table, PyObject *key, PyObject *words, Py_ssize_t i,
            Py_ssize_t n, Py_ssize_t title_words)
{
    PyObject *anchors = PyDict_GetItemWithError(table, key);
    if (anchors == NULL) {
        return PyErr_Occurred() ? -1 : 0;
    }
    return check_anchors(found, anchors, words, i, n, title_words);
}

static PyObject *
find_phrases(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 4) {
        PyErr_SetString(PyExc_TypeError, "find_phrases(words, positions, entries, title_words)");
        return NULL;
    }
    PyObject *words = args[0], *positions = args[1], *entries = args[2];
    if (!PyList_Check(words) || !PyList_Check(positions) || !PyList_Check(entries)) {
        PyErr_SetString(PyExc_TypeError, "words, positions and entries must be lists");
        return NULL;
    }
    if (PyList_GET_SIZE(positions) != PyList_GET_SIZE(entries)) {
        PyErr_SetString(PyExc_ValueError, "positions and entries differ in length");
        return NULL;
    }
    Py_ssize_t title_words = PyLong_AsSsize_t(args[3]);
    if (title_words == -1 && PyErr_Occurred()) {
        return NULL;
    }
    Py_ssize_t n = PyList_GET_SIZE(words);
    for (Py_ssize_t k = 0; k < n; k++) {
        if (!PyUnicode_Check(PyList_GET_ITEM(words, k))) {
            PyErr_SetString(PyExc_TypeError, "words must be str");
            return NULL;
        }
    }
    PyObject *found = PyDict_New();
    if (found == NULL) {
        return NULL;
    }
    for (Py_ssize_t h = 0; h < PyList_GET_SIZE(positions); h++) {
        Py_ssize_t i = PyLong_AsSsize_t(PyList_GET_ITEM(positions, h));
        if (i == -1 && PyErr_Occurred()) {
            goto error;
        }
        if (i < 0 || i >= n) {
            PyErr_SetString(PyExc_ValueError, "a position is outside the words");
            goto error;
        }
        PyObject *anchored = PyList_GET_ITEM(entries, h);
        if (!PyTuple_Check(anchored) || PyTuple_GET_SIZE(anchored) != 3) {
            PyErr_SetString(PyExc_TypeError, "an entry is (direct, by_word, by_prefix)");
            goto error;
        }
        if (check_anchors(found, PyTuple_GET_ITEM(anchored, 0), words, i, n, title_words) < 0) {
            goto error;
        }
        PyObject *by_word = PyTuple_GET_ITEM(anchored, 1);
        PyObject *by_prefix = PyTuple_GET_ITEM(anchored, 2);
        if (!PyTuple_Check(by_word) || !PyTuple_Check(by_prefix)) {
            PyErr_SetString(PyExc_TypeError, "an entry's by_word and by_prefix must be tuples");
            goto error;
        }
        for (Py_ssize_t g = 0; g < PyTuple_GET_SIZE(by_word); g++) {
            PyObject *group = PyTuple_GET_ITEM(by_word, g);
            Py_ssize_t j = neighbour(group, 2, i, n);
            if (j == -2) {
                goto error;
            }
            if (j < 0) {
                continue;
            }
            if (check_keyed(found, PyTuple_GET_ITEM(group, 1), PyList_GET_ITEM(words, j), words,
                            i, n, title_words) < 0) {
                goto error;
            }
        }
        for (Py_ssize_t g = 0; g < PyTuple_GET_SIZE(by_prefix); g++) {
            PyObject *group = PyTuple_GET_ITEM(by_prefix, g);
            Py_ssize_t j = neighbour(group, 3, i, n);
            if (j == -2) {
                goto error;
            }
            if (j < 0) {
                continue;
            }
            if (!PyTuple_Check(PyTuple_GET_ITEM(group, 2))) {
                PyErr_SetString(PyExc_TypeError, "a prefix group's lengths must be a tuple");
                goto error;
            }
            PyObject *word = PyList_GET_ITEM(words, j);
            Py_ssize_t word_length = PyUnicode_GET_LENGTH(word);
            PyObject *lengths = PyTuple_GET_ITEM(group, 2);
            for (Py_ssize_t l = 0; l < PyTuple_GET_SIZE(lengths); l++) {
                Py_ssize_t length = PyLong_AsSsize_t(PyTuple_GET_ITEM(lengths, l));
                if (length == -1 && PyErr_Occurred()) {
                    goto error;
                }
                if (length > word_length) {
                    break;
                }
                PyObject *prefix = PyUnicode_Substring(word, 0, length);
                if (prefix == NULL) {
                    goto error;
                }
                int failed = check_keyed(found, PyTuple_GET_ITEM(group, 1), prefix, words, i, n,
                                         title_words) < 0;
                Py_DECREF(prefix);
                if (failed) {
                    goto error;
                }
            }
        }
    }
    return found;
error:
    Py_DECREF(found);
    return NULL;
}

static PyMethodDef module_methods[] = {
    {"find_phrases", (PyCFunction)(void (*)(void))find_phrases, METH_FASTCALL,
     "find_phrases(words, positions, entries, title_words) -> {phrase id: [(start, end)]}"},
    {NULL, NULL, 0, NULL},
};

static int
module_exec(PyObject *module)
{
    for (Py_UCS4 c = 0; c < WORD_TABLE; c++) {
        word_table[c] = (unsigned char)Py_UNICODE_ISALNUM(c);
    }
    PyObject *type = PyType_FromModuleAndSpec(module, &Scanner_spec, NULL);
    if (type == NULL) {
        return -1;
    }
    int failed = PyModule_AddObjectRef(module, "Scanner", type) < 0;
    Py_DECREF(type);
    return failed ? -1 : 0;
}

static PyModuleDef_Slot module_slots[] = {
    {Py_mod_exec, module_exec},
    {0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "pipeline.core._wordscan",
    .m_doc = "Compiled word scanner for the classifier (see pipeline.core.wordscan).",
    .m_size = 0,
    .m_methods = module_methods,
    .m_slots = module_slots,
};

PyMODINIT_FUNC
PyInit__wordscan(void)
{
    return PyModuleDef_Init(&module_def);
}
