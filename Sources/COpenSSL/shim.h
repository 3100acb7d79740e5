// Only libcrypto's scrypt, random bytes and constant-time compare are used (docs/identity.md).
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>
#include <openssl/crypto.h>
