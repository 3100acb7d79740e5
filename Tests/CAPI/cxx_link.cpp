// The header from C++ (its extern "C" guards): links against the library and gets a config
// error back through the C ABI. Built and run by Tests/CAPI/run.sh with the Swift toolchain's clang++.
#include <noex_server.h>
#include <cstdio>
#include <cstring>

int main() {
    noex_server *s = nullptr;
    char err[128];
    int32_t rc = noex_server_start("{\"port\": -1}", &s, err, sizeof err);
    if (rc != -22 || s != nullptr || std::strstr(err, "config key \"port\"") == nullptr) {
        std::fprintf(stderr, "FAIL: C++: start answered %d: %s\n", rc, err);
        return 1;
    }
    std::printf("C++: the header links; bad config answered %d\n", rc);
    return 0;
}
