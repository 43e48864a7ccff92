// Both libraries' public headers, imported into Swift unchanged. Debian: libsndfile1-dev, libsoxr-dev.
#include <sndfile.h>
#include <soxr.h>
