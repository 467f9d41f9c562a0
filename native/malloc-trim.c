/*
 * A Node-API addon with one function, trim(): glibc's malloc_trim(0), which hands the pages of
 * freed heap memory back to the system. glibc keeps what a process frees for its next
 * allocations and returns only the free memory at the top of its heap; the rest (a burst's
 * socket handles, read buffers and stream states, freed between what is still in use) stays
 * resident until malloc_trim is called, and node has no call for it. Elsewhere (not glibc)
 * trim() does nothing and says so. The few Node-API declarations are written out here, so the
 * addon builds with a C compiler alone (scripts/build-native.mjs); Node-API keeps them stable
 * across node versions.
 */
#include <stddef.h>
#include <stdlib.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

typedef struct napi_env__ *napi_env;
typedef struct napi_value__ *napi_value;
typedef struct napi_callback_info__ *napi_callback_info;
typedef napi_value (*napi_callback)(napi_env, napi_callback_info);
extern int napi_create_function(napi_env, const char *, size_t, napi_callback, void *, napi_value *);
extern int napi_set_named_property(napi_env, napi_value, const char *, napi_value);
extern int napi_get_boolean(napi_env, _Bool, napi_value *);

/* trim(): true when memory went back to the system. */
static napi_value trim(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value result;
#ifdef __GLIBC__
  _Bool released = malloc_trim(0) == 1;
#else
  _Bool released = 0;
#endif
  if (napi_get_boolean(env, released, &result) != 0) return NULL;
  return result;
}

napi_value napi_register_module_v1(napi_env env, napi_value exports) {
  napi_value fn;
  if (napi_create_function(env, "trim", (size_t)-1, trim, NULL, &fn) != 0) return NULL;
  if (napi_set_named_property(env, exports, "trim", fn) != 0) return NULL;
  return exports;
}
