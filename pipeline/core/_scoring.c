/* The classifier's scoring of one topic, compiled: the same answers as
 * Classifier._python_score_topic in pipeline/core/classify.py, which states the rules and stays
 * as the fallback (tests hold the two to identical explanations).
 *
 *   score_topic(terms, found, title_words, title_weight, exclusions)
 *       -> (occurrences, contributions, strong_hit)
 *
 * Each term is a tuple starting (first, second, near, weight, strong, index, source) (second is
 * -1 unless the term is A NEAR/n B; classify's _CompiledTerm); found maps a phrase id to its
 * spans [(first word, last word), ...] in text order; exclusions are tuples starting (source,
 * first, second, near, within), in the order the topic writes them (_CompiledExclusion). occurrences = [(term, cover, cancelled_by, subsumed_by), ...] in
 * the order of terms, then of covers; a cover is a tuple of one span, or two for NEAR.
 * contributions = {term index: weight that counted}, in the order terms first counted.
 *
 *   matched_texts(occurrences, title, summary, title_words, title_spans, summary_spans)
 *       -> [text, ...]
 *
 * the distinct texts (by casefold) of the occurrences that counted, their words as written
 * joined by spaces, in order of appearance: _matched_texts in classify.py. The spans are the
 * word scanner's: native int32 pairs [start, end) per word of each field.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>

typedef struct {
    Py_ssize_t term; /* position in specs / terms */
    Py_ssize_t order; /* position among the occurrences */
    Py_ssize_t spans[2][2];
    int nspans;
    Py_ssize_t size;
    double weight;
    Py_ssize_t index;
    PyObject *cover;     /* owned */
    PyObject *cancelled; /* borrowed (a spec's or an exclusion's source), or NULL */
    PyObject *subsumed;  /* borrowed, or NULL */
} Occ;

typedef struct {
    Occ *items;
    Py_ssize_t count, capacity;
} Occs;

static int
occs_push(Occs *occs, Occ *occ)
{
    if (occs->count == occs->capacity) {
        Py_ssize_t capacity = occs->capacity ? occs->capacity * 2 : 32;
        Occ *items = PyMem_Realloc(occs->items, (size_t)capacity * sizeof(Occ));
        if (items == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        occs->items = items;
        occs->capacity = capacity;
    }
    occ->order = occs->count;
    occs->items[occs->count++] = *occ;
    return 0;
}

static void
occs_free(Occs *occs)
{
    for (Py_ssize_t i = 0; i < occs->count; i++) {
        Py_XDECREF(occs->items[i].cover);
    }
    PyMem_Free(occs->items);
}

/* A span tuple (first word, last word) as two integers. */
static int
read_span(PyObject *span, Py_ssize_t *a, Py_ssize_t *b)
{
    if (!PyTuple_Check(span) || PyTuple_GET_SIZE(span) != 2) {
        PyErr_SetString(PyExc_TypeError, "a span is (first word, last word)");
        return -1;
    }
    *a = PyLong_AsSsize_t(PyTuple_GET_ITEM(span, 0));
    *b = PyLong_AsSsize_t(PyTuple_GET_ITEM(span, 1));
    return PyErr_Occurred() ? -1 : 0;
}

/* found[pid] as a list, or NULL (with no error) when the phrase was not found. */
static PyObject *
spans_of(PyObject *found, PyObject *pid)
{
    PyObject *spans = PyDict_GetItemWithError(found, pid);
    if (spans != NULL && !PyList_Check(spans)) {
        PyErr_SetString(PyExc_TypeError, "found maps a phrase id to a list of spans");
        return NULL;
    }
    return spans;
}

typedef int (*cover_sink)(void *context, PyObject *a, PyObject *b, Py_ssize_t sa[2],
                          Py_ssize_t sb[2]);

/* Every pair of a span of first and a span of second within near words, the two not
 * overlapping, in the order first x second, each passed on earlier span first. */
static int
near_covers(PyObject *first, PyObject *second, Py_ssize_t near, cover_sink sink, void *context)
{
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(first); i++) {
        PyObject *a = PyList_GET_ITEM(first, i);
        Py_ssize_t sa[2];
        if (read_span(a, &sa[0], &sa[1]) < 0) {
            return -1;
        }
        for (Py_ssize_t j = 0; j < PyList_GET_SIZE(second); j++) {
            PyObject *b = PyList_GET_ITEM(second, j);
            Py_ssize_t sb[2];
            if (read_span(b, &sb[0], &sb[1]) < 0) {
                return -1;
            }
            if (sa[0] <= sb[1] && sb[0] <= sa[1]) {
                continue; /* the two sides overlap: not two separate phrases */
            }
            Py_ssize_t gap = sb[0] - sa[1] > sa[0] - sb[1] ? sb[0] - sa[1] : sa[0] - sb[1];
            if (gap > near) {
                continue;
            }
            int failed = sa[0] < sb[0] ? sink(context, a, b, sa, sb) : sink(context, b, a, sb, sa);
            if (failed) {
                return -1;
            }
        }
    }
    return 0;
}

typedef struct {
    Occs *occs;
    Occ *proto;
    Py_ssize_t title_words;
} TermSink;

static int
add_near_occurrence(void *context, PyObject *a, PyObject *b, Py_ssize_t sa[2], Py_ssize_t sb[2])
{
    TermSink *sink = context;
    if ((sa[0] < sink->title_words) != (sb[0] < sink->title_words)) {
        return 0; /* a NEAR pair does not run from the title into the summary */
    }
    Occ occ = *sink->proto;
    occ.cover = PyTuple_Pack(2, a, b);
    if (occ.cover == NULL) {
        return -1;
    }
    occ.nspans = 2;
    occ.spans[0][0] = sa[0];
    occ.spans[0][1] = sa[1];
    occ.spans[1][0] = sb[0];
    occ.spans[1][1] = sb[1];
    occ.size = (sa[1] - sa[0] + 1) + (sb[1] - sb[0] + 1);
    if (occs_push(sink->occs, &occ) < 0) {
        Py_DECREF(occ.cover);
        return -1;
    }
    return 0;
}

typedef struct {
    Py_ssize_t *items; /* pairs lo, hi */
    Py_ssize_t count, capacity;
    Py_ssize_t within;
} Reach;

static int
reach_push(Reach *reach, Py_ssize_t a, Py_ssize_t b)
{
    if (reach->count == reach->capacity) {
        Py_ssize_t capacity = reach->capacity ? reach->capacity * 2 : 16;
        Py_ssize_t *items = PyMem_Realloc(reach->items, (size_t)capacity * 2 * sizeof(Py_ssize_t));
        if (items == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        reach->items = items;
        reach->capacity = capacity;
    }
    reach->items[2 * reach->count] = a - reach->within;
    reach->items[2 * reach->count + 1] = b + reach->within;
    reach->count++;
    return 0;
}

static int
add_near_reach(void *context, PyObject *a, PyObject *b, Py_ssize_t sa[2], Py_ssize_t sb[2])
{
    (void)a;
    (void)b;
    Reach *reach = context;
    return reach_push(reach, sa[0], sa[1]) < 0 || reach_push(reach, sb[0], sb[1]) < 0 ? -1 : 0;
}

/* An occurrence span (a0, a1) is within w words of an exclusion span (b0, b1) when
 * a0 <= b1 + w and a1 >= b0 - w: each exclusion becomes the intervals it reaches. */
static int
cancel(Occs *occs, PyObject *exclusions, PyObject *found)
{
    Reach reach = {NULL, 0, 0, 0};
    int result = -1;
    for (Py_ssize_t e = 0; e < PyList_GET_SIZE(exclusions); e++) {
        PyObject *ex = PyList_GET_ITEM(exclusions, e);
        if (!PyTuple_Check(ex) || PyTuple_GET_SIZE(ex) < 5) {
            PyErr_SetString(PyExc_TypeError, "an exclusion is (source, first, second, near, within)");
            goto done;
        }
        PyObject *source = PyTuple_GET_ITEM(ex, 0);
        Py_ssize_t second = PyLong_AsSsize_t(PyTuple_GET_ITEM(ex, 2));
        Py_ssize_t near = PyLong_AsSsize_t(PyTuple_GET_ITEM(ex, 3));
        reach.within = PyLong_AsSsize_t(PyTuple_GET_ITEM(ex, 4));
        if (PyErr_Occurred()) {
            goto done;
        }
        reach.count = 0;
        PyObject *spans = spans_of(found, PyTuple_GET_ITEM(ex, 1));
        if (spans == NULL) {
            if (PyErr_Occurred()) {
                goto done;
            }
            continue;
        }
        if (second < 0) {
            for (Py_ssize_t i = 0; i < PyList_GET_SIZE(spans); i++) {
                Py_ssize_t a, b;
                if (read_span(PyList_GET_ITEM(spans, i), &a, &b) < 0 || reach_push(&reach, a, b) < 0) {
                    goto done;
                }
            }
        }
        else {
            PyObject *other = spans_of(found, PyTuple_GET_ITEM(ex, 2));
            if (other == NULL) {
                if (PyErr_Occurred()) {
                    goto done;
                }
                continue;
            }
            if (near_covers(spans, other, near, add_near_reach, &reach) < 0) {
                goto done;
            }
        }
        for (Py_ssize_t o = 0; o < occs->count; o++) {
            Occ *occ = &occs->items[o];
            if (occ->cancelled) {
                continue;
            }
            for (int s = 0; s < occ->nspans && !occ->cancelled; s++) {
                for (Py_ssize_t r = 0; r < reach.count; r++) {
                    if (occ->spans[s][0] <= reach.items[2 * r + 1]
                        && occ->spans[s][1] >= reach.items[2 * r]) {
                        occ->cancelled = source;
                        break;
                    }
                }
            }
        }
    }
    result = 0;
done:
    PyMem_Free(reach.items);
    return result;
}

static int
compare_extent(const void *x, const void *y)
{
    const Occ *a = *(const Occ *const *)x, *b = *(const Occ *const *)y;
    Py_ssize_t a0 = a->spans[0][0], b0 = b->spans[0][0];
    Py_ssize_t a1 = a->spans[a->nspans - 1][1], b1 = b->spans[b->nspans - 1][1];
    if (a0 != b0) {
        return a0 < b0 ? -1 : 1;
    }
    if (a1 != b1) {
        return a1 < b1 ? -1 : 1;
    }
    return a->order < b->order ? -1 : (a->order > b->order);
}

/* The more specific first: bigger, then heavier, then the term written first. */
static int
compare_rank(const void *x, const void *y)
{
    const Occ *a = *(const Occ *const *)x, *b = *(const Occ *const *)y;
    if (a->size != b->size) {
        return a->size > b->size ? -1 : 1;
    }
    if (a->weight != b->weight) {
        return a->weight > b->weight ? -1 : 1;
    }
    if (a->index != b->index) {
        return a->index < b->index ? -1 : 1;
    }
    return a->order < b->order ? -1 : (a->order > b->order);
}

static int
contains(const Occ *outer, const Occ *inner)
{
    for (int i = 0; i < inner->nspans; i++) {
        int inside = 0;
        for (int o = 0; o < outer->nspans && !inside; o++) {
            inside = outer->spans[o][0] <= inner->spans[i][0]
                     && inner->spans[i][1] <= outer->spans[o][1];
        }
        if (!inside) {
            return 0;
        }
    }
    return 1;
}

static void
settle(Occ **run, Py_ssize_t count, PyObject *const *sources)
{
    qsort(run, (size_t)count, sizeof(Occ *), compare_rank);
    for (Py_ssize_t j = 1; j < count; j++) {
        Occ *occ = run[j];
        for (Py_ssize_t i = 0; i < j; i++) {
            Occ *bigger = run[i];
            if (bigger->index != occ->index && contains(bigger, occ)) {
                occ->subsumed = sources[bigger->term];
                break;
            }
        }
    }
}

/* Only occurrences that overlap can contain one another: the live ones are cut into runs whose
 * first-to-last word extents overlap, and each run of two or more is settled alone. */
static int
subsume(Occs *occs, PyObject *const *sources)
{
    Occ **live = PyMem_Malloc((size_t)(occs->count ? occs->count : 1) * sizeof(Occ *));
    if (live == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    Py_ssize_t count = 0;
    for (Py_ssize_t i = 0; i < occs->count; i++) {
        if (!occs->items[i].cancelled) {
            live[count++] = &occs->items[i];
        }
    }
    if (count >= 2) {
        qsort(live, (size_t)count, sizeof(Occ *), compare_extent);
        Py_ssize_t start = 0;
        Py_ssize_t end = live[0]->spans[live[0]->nspans - 1][1];
        for (Py_ssize_t i = 1; i <= count; i++) {
            if (i < count && live[i]->spans[0][0] <= end) {
                Py_ssize_t last = live[i]->spans[live[i]->nspans - 1][1];
                end = last > end ? last : end;
                continue;
            }
            if (i - start > 1) {
                settle(live + start, i - start, sources);
            }
            if (i < count) {
                start = i;
                end = live[i]->spans[live[i]->nspans - 1][1];
            }
        }
    }
    PyMem_Free(live);
    return 0;
}

static PyObject *
score_topic(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs != 5) {
        PyErr_SetString(PyExc_TypeError,
                        "score_topic(terms, found, title_words, title_weight, exclusions)");
        return NULL;
    }
    PyObject *specs = args[0], *found = args[1], *title_weight = args[3], *exclusions = args[4];
    if (!PyList_Check(specs) || !PyDict_Check(found) || !PyList_Check(exclusions)) {
        PyErr_SetString(PyExc_TypeError, "terms and exclusions are lists, found a dict");
        return NULL;
    }
    Py_ssize_t title_words = PyLong_AsSsize_t(args[2]);
    if (title_words == -1 && PyErr_Occurred()) {
        return NULL;
    }
    Py_ssize_t nterms = PyList_GET_SIZE(specs);
    Occs occs = {NULL, 0, 0};
    PyObject **sources = PyMem_Malloc((size_t)(nterms ? nterms : 1) * sizeof(PyObject *));
    PyObject *result = NULL, *occurrences = NULL, *contributions = NULL;
    if (sources == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    for (Py_ssize_t k = 0; k < nterms; k++) {
        PyObject *spec = PyList_GET_ITEM(specs, k);
        if (!PyTuple_Check(spec) || PyTuple_GET_SIZE(spec) < 7) {
            PyErr_SetString(PyExc_TypeError,
                            "a term starts (first, second, near, weight, strong, index, source)");
            goto done;
        }
        sources[k] = PyTuple_GET_ITEM(spec, 6);
        Occ proto = {0};
        proto.term = k;
        proto.nspans = 1;
        proto.weight = PyFloat_AsDouble(PyTuple_GET_ITEM(spec, 3));
        proto.index = PyLong_AsSsize_t(PyTuple_GET_ITEM(spec, 5));
        Py_ssize_t second = PyLong_AsSsize_t(PyTuple_GET_ITEM(spec, 1));
        Py_ssize_t near = PyLong_AsSsize_t(PyTuple_GET_ITEM(spec, 2));
        if (PyErr_Occurred()) {
            goto done;
        }
        PyObject *spans = spans_of(found, PyTuple_GET_ITEM(spec, 0));
        if (spans == NULL) {
            if (!PyErr_Occurred()) {
                PyErr_SetString(PyExc_KeyError, "a term's phrase is not among those found");
            }
            goto done;
        }
        if (second < 0) {
            for (Py_ssize_t i = 0; i < PyList_GET_SIZE(spans); i++) {
                PyObject *span = PyList_GET_ITEM(spans, i);
                Occ occ = proto;
                if (read_span(span, &occ.spans[0][0], &occ.spans[0][1]) < 0) {
                    goto done;
                }
                occ.size = occ.spans[0][1] - occ.spans[0][0] + 1;
                occ.cover = PyTuple_Pack(1, span);
                if (occ.cover == NULL) {
                    goto done;
                }
                if (occs_push(&occs, &occ) < 0) {
                    Py_DECREF(occ.cover);
                    goto done;
                }
            }
        }
        else {
            PyObject *other = spans_of(found, PyTuple_GET_ITEM(spec, 1));
            if (other == NULL) {
                if (PyErr_Occurred()) {
                    goto done;
                }
                continue;
            }
            TermSink sink = {&occs, &proto, title_words};
            if (near_covers(spans, other, near, add_near_occurrence, &sink) < 0) {
                goto done;
            }
        }
    }
    if (occs.count == 0) {
        result = Py_NewRef(Py_None);
        goto done;
    }
    if (cancel(&occs, exclusions, found) < 0 || subsume(&occs, sources) < 0) {
        goto done;
    }
    occurrences = PyList_New(occs.count);
    contributions = PyDict_New();
    if (occurrences == NULL || contributions == NULL) {
        goto done;
    }
    PyObject *empty = PyUnicode_New(0, 0);
    if (empty == NULL) {
        goto done;
    }
    int strong_hit = 0;
    for (Py_ssize_t o = 0; o < occs.count; o++) {
        Occ *occ = &occs.items[o];
        PyObject *item = PyTuple_Pack(4, PyList_GET_ITEM(specs, occ->term), occ->cover,
                                      occ->cancelled ? occ->cancelled : empty,
                                      occ->subsumed ? occ->subsumed : empty);
        if (item == NULL) {
            Py_DECREF(empty);
            goto done;
        }
        PyList_SET_ITEM(occurrences, o, item);
        if (occ->cancelled) {
            continue;
        }
        PyObject *spec = PyList_GET_ITEM(specs, occ->term);
        int strong = PyObject_IsTrue(PyTuple_GET_ITEM(spec, 4));
        if (strong < 0) {
            Py_DECREF(empty);
            goto done;
        }
        strong_hit = strong_hit || strong;
        if (occ->subsumed) {
            continue;
        }
        PyObject *weight = PyTuple_GET_ITEM(spec, 3);
        weight = occ->spans[0][0] < title_words ? PyNumber_Multiply(weight, title_weight)
                                                 : Py_NewRef(weight);
        if (weight == NULL) {
            Py_DECREF(empty);
            goto done;
        }
        PyObject *key = PyTuple_GET_ITEM(spec, 5);
        PyObject *current = PyDict_GetItemWithError(contributions, key);
        double best = current ? PyFloat_AsDouble(current) : 0.0;
        double value = PyFloat_AsDouble(weight);
        int failed = PyErr_Occurred() != NULL;
        if (!failed && value > best) {
            failed = PyDict_SetItem(contributions, key, weight) < 0;
        }
        Py_DECREF(weight);
        if (failed) {
            Py_DECREF(empty);
            goto done;
        }
    }
    Py_DECREF(empty);
    result = Py_BuildValue("(OOO)", occurrences, contributions, strong_hit ? Py_True : Py_False);
done:
    Py_XDECREF(occurrences);
    Py_XDECREF(contributions);
    occs_free(&occs);
    PyMem_Free(sources);
    return result;
}

/* --- matched_texts ------------------------------------------------------------------------ */

typedef struct {
    Py_ssize_t spans[2][2];
    int nspans;
    Py_ssize_t order;
} Counted;

/* Python's order of covers: tuples of (first, last) tuples, compared item by item. */
static int
compare_covers(const void *x, const void *y)
{
    const Counted *a = x, *b = y;
    int n = a->nspans < b->nspans ? a->nspans : b->nspans;
    for (int i = 0; i < n; i++) {
        for (int k = 0; k < 2; k++) {
            if (a->spans[i][k] != b->spans[i][k]) {
                return a->spans[i][k] < b->spans[i][k] ? -1 : 1;
            }
        }
    }
    if (a->nspans != b->nspans) {
        return a->nspans < b->nspans ? -1 : 1;
    }
    return a->order < b->order ? -1 : (a->order > b->order);
}

static int
read_cover(PyObject *cover, Counted *counted)
{
    if (!PyTuple_Check(cover) || PyTuple_GET_SIZE(cover) < 1 || PyTuple_GET_SIZE(cover) > 2) {
        PyErr_SetString(PyExc_TypeError, "a cover is a tuple of one or two spans");
        return -1;
    }
    counted->nspans = (int)PyTuple_GET_SIZE(cover);
    for (int i = 0; i < counted->nspans; i++) {
        if (read_span(PyTuple_GET_ITEM(cover, i), &counted->spans[i][0], &counted->spans[i][1])
            < 0) {
            return -1;
        }
    }
    return 0;
}

/* The words first..last of one field as written, joined by single spaces. */
static PyObject *
written(PyObject *source, const Py_buffer *spans, Py_ssize_t first, Py_ssize_t last)
{
    const int32_t *offsets = spans->buf;
    Py_ssize_t words = spans->len / (Py_ssize_t)(2 * sizeof(int32_t));
    if (first < 0 || last < first || last >= words) {
        PyErr_SetString(PyExc_ValueError, "a cover falls outside its field's words");
        return NULL;
    }
    if (first == last) {
        return PyUnicode_Substring(source, offsets[2 * first], offsets[2 * first + 1]);
    }
    PyObject *parts = PyList_New(last - first + 1);
    if (parts == NULL) {
        return NULL;
    }
    for (Py_ssize_t k = first; k <= last; k++) {
        PyObject *part = PyUnicode_Substring(source, offsets[2 * k], offsets[2 * k + 1]);
        if (part == NULL) {
            Py_DECREF(parts);
            return NULL;
        }
        PyList_SET_ITEM(parts, k - first, part);
    }
    PyObject *space = PyUnicode_FromString(" ");
    PyObject *joined = space ? PyUnicode_Join(space, parts) : NULL;
    Py_XDECREF(space);
    Py_DECREF(parts);
    return joined;
}

static PyObject *
matched_texts(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs != 6) {
        PyErr_SetString(PyExc_TypeError, "matched_texts(occurrences, title, summary, title_words, "
                                         "title_spans, summary_spans)");
        return NULL;
    }
    PyObject *occurrences = args[0], *sources[2] = {args[1], args[2]};
    if (!PyList_Check(occurrences) || !PyUnicode_Check(sources[0])
        || !PyUnicode_Check(sources[1])) {
        PyErr_SetString(PyExc_TypeError, "occurrences is a list, title and summary str");
        return NULL;
    }
    Py_ssize_t title_words = PyLong_AsSsize_t(args[3]);
    if (title_words == -1 && PyErr_Occurred()) {
        return NULL;
    }
    Py_buffer spans[2];
    if (PyObject_GetBuffer(args[4], &spans[0], PyBUF_SIMPLE) < 0) {
        return NULL;
    }
    if (PyObject_GetBuffer(args[5], &spans[1], PyBUF_SIMPLE) < 0) {
        PyBuffer_Release(&spans[0]);
        return NULL;
    }
    Py_ssize_t count = PyList_GET_SIZE(occurrences), n = 0;
    Counted *counted = PyMem_Malloc((size_t)(count ? count : 1) * sizeof(Counted));
    PyObject *found = NULL, *seen = NULL, *result = NULL;
    if (counted == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *occ = PyList_GET_ITEM(occurrences, i);
        if (!PyTuple_Check(occ) || PyTuple_GET_SIZE(occ) != 4
            || !PyUnicode_Check(PyTuple_GET_ITEM(occ, 2))
            || !PyUnicode_Check(PyTuple_GET_ITEM(occ, 3))) {
            PyErr_SetString(PyExc_TypeError,
                            "an occurrence is (term, cover, cancelled_by, subsumed_by)");
            goto done;
        }
        if (PyUnicode_GET_LENGTH(PyTuple_GET_ITEM(occ, 2))
            || PyUnicode_GET_LENGTH(PyTuple_GET_ITEM(occ, 3))) {
            continue; /* cancelled or subsumed: did not count */
        }
        if (read_cover(PyTuple_GET_ITEM(occ, 1), &counted[n]) < 0) {
            goto done;
        }
        counted[n].order = n;
        n++;
    }
    qsort(counted, (size_t)n, sizeof(Counted), compare_covers);
    found = PyList_New(0);
    seen = PySet_New(NULL);
    if (found == NULL || seen == NULL) {
        goto done;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_ssize_t first = counted[i].spans[0][0];
        Py_ssize_t last = counted[i].spans[counted[i].nspans - 1][1];
        int field = first < title_words ? 0 : 1;
        Py_ssize_t base = field ? title_words : 0;
        PyObject *text = written(sources[field], &spans[field], first - base, last - base);
        if (text == NULL) {
            goto done;
        }
        PyObject *key = PyObject_CallMethod(text, "casefold", NULL);
        int known = key ? PySet_Contains(seen, key) : -1;
        int failed = known < 0 || (!known && (PySet_Add(seen, key) < 0
                                              || PyList_Append(found, text) < 0));
        Py_XDECREF(key);
        Py_DECREF(text);
        if (failed) {
            goto done;
        }
    }
    result = Py_NewRef(found);
done:
    Py_XDECREF(found);
    Py_XDECREF(seen);
    PyMem_Free(counted);
    PyBuffer_Release(&spans[0]);
    PyBuffer_Release(&spans[1]);
    return result;
}

static PyMethodDef module_methods[] = {
    {"score_topic", (PyCFunction)(void (*)(void))score_topic, METH_FASTCALL,
     "score_topic(terms, found, title_words, title_weight, exclusions)"
     " -> (occurrences, contributions, strong_hit), or None when no term occurs"},
    {"matched_texts", (PyCFunction)(void (*)(void))matched_texts, METH_FASTCALL,
     "matched_texts(occurrences, title, summary, title_words, title_spans, summary_spans)"
     " -> the distinct texts that counted, in order of appearance"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "pipeline.core._scoring",
    .m_doc = "Compiled scoring of one topic (see pipeline.core.classify).",
    .m_size = 0,
    .m_methods = module_methods,
};

PyMODINIT_FUNC
PyInit__scoring(void)
{
    return PyModuleDef_Init(&module_def);
}
