#include "config/files.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>

#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

namespace saker {
namespace {

using SslCtx = std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)>;

SslCtx new_ctx() {
  SslCtx ctx(SSL_CTX_new(TLS_method()), &SSL_CTX_free);
  // An encrypted key would make OpenSSL ask for its passphrase on the terminal: refuse instead.
  if (ctx) SSL_CTX_set_default_passwd_cb(ctx.get(), [](char*, int, int, void*) { return 0; });
  return ctx;
}

// OpenSSL's reason for the last failure, and a clean error queue for the next call.
std::string openssl_reason() {
  const unsigned long e = ERR_peek_error();
  const char* reason = e != 0 ? ERR_reason_error_string(e) : nullptr;
  ERR_clear_error();
  return reason != nullptr ? reason : "unknown error";
}

}  // namespace

std::string tls_file_problem(const std::string& path, TlsFile kind, const std::string& passphrase) {
  if (::access(path.c_str(), R_OK) != 0) return fmt::format("cannot read {}: {}", path, std::strerror(errno));
  if (std::filesystem::is_directory(path)) return fmt::format("{} is a folder, not a PEM file", path);
  SslCtx ctx = new_ctx();
  if (!ctx) return "cannot check it: " + openssl_reason();
  if (kind == TlsFile::private_key && !passphrase.empty()) {
    SSL_CTX_set_default_passwd_cb_userdata(ctx.get(), const_cast<std::string*>(&passphrase));
    SSL_CTX_set_default_passwd_cb(ctx.get(), [](char* buf, int size, int, void* user) {
      const auto* p = static_cast<const std::string*>(user);
      const int n = static_cast<int>(std::min<std::size_t>(p->size(), static_cast<std::size_t>(size)));
      std::memcpy(buf, p->data(), static_cast<std::size_t>(n));
      return n;
    });
    if (SSL_CTX_use_PrivateKey_file(ctx.get(), path.c_str(), SSL_FILETYPE_PEM) != 1) {
      return fmt::format("{} is not a PEM private key its passphrase opens ({})", path, openssl_reason());
    }
    return {};
  }
  switch (kind) {
    case TlsFile::certificate:
      if (SSL_CTX_use_certificate_chain_file(ctx.get(), path.c_str()) != 1) {
        return fmt::format("{} is not a PEM certificate ({})", path, openssl_reason());
      }
      break;
    case TlsFile::private_key:
      if (SSL_CTX_use_PrivateKey_file(ctx.get(), path.c_str(), SSL_FILETYPE_PEM) != 1) {
        return fmt::format("{} is not an unencrypted PEM private key ({})", path, openssl_reason());
      }
      break;
    case TlsFile::ca_bundle:
      if (SSL_CTX_load_verify_locations(ctx.get(), path.c_str(), nullptr) != 1) {
        return fmt::format("{} holds no PEM CA certificate ({})", path, openssl_reason());
      }
      break;
  }
  return {};
}

std::string readable_file_problem(const std::string& path) {
  if (::access(path.c_str(), R_OK) != 0) return fmt::format("cannot read {}: {}", path, std::strerror(errno));
  if (std::filesystem::is_directory(path)) return fmt::format("{} is a folder, not a file", path);
  return {};
}

std::string readable_directory_problem(const std::string& path) {
  if (::access(path.c_str(), R_OK | X_OK) != 0) return fmt::format("cannot read {}: {}", path, std::strerror(errno));
  if (!std::filesystem::is_directory(path)) return fmt::format("{} is not a folder", path);
  return {};
}

std::string tls_pair_problem(const std::string& cert, const std::string& key) {
  // Read apart: SSL_CTX_use_PrivateKey_file would refuse a mismatched key without saying why.
  std::unique_ptr<BIO, decltype(&BIO_free)> cert_in(BIO_new_file(cert.c_str(), "r"), &BIO_free);
  std::unique_ptr<BIO, decltype(&BIO_free)> key_in(BIO_new_file(key.c_str(), "r"), &BIO_free);
  if (!cert_in || !key_in) {
    ERR_clear_error();
    return {};  // reported on its own by tls_file_problem
  }
  std::unique_ptr<X509, decltype(&X509_free)> x509(PEM_read_bio_X509(cert_in.get(), nullptr, nullptr, nullptr),
                                                    &X509_free);
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> pkey(
      PEM_read_bio_PrivateKey(key_in.get(), nullptr, [](char*, int, int, void*) { return 0; }, nullptr),
      &EVP_PKEY_free);
  if (!x509 || !pkey) {
    ERR_clear_error();
    return {};
  }
  if (X509_check_private_key(x509.get(), pkey.get()) != 1) {
    ERR_clear_error();
    return fmt::format("the key {} does not belong to the certificate {}", key, cert);
  }
  return {};
}

std::string directory_problem(const std::string& dir) {
  namespace fs = std::filesystem;
  const fs::path want = dir.empty() ? fs::path(".") : fs::path(dir);
  fs::path existing = want;
  std::error_code ec;
  while (!fs::exists(fs::symlink_status(existing, ec)) && existing.has_relative_path()) {
    existing = existing.has_parent_path() ? existing.parent_path() : fs::path(".");
  }
  if (!fs::is_directory(existing, ec)) {
    return fmt::format("cannot create the folder {}: {} is not a folder", want.string(), existing.string());
  }
  if (::access(existing.c_str(), W_OK | X_OK) != 0) {
    const char* why = std::strerror(errno);
    return existing == want ? fmt::format("the folder {} is not writable: {}", want.string(), why)
                            : fmt::format("cannot create the folder {}: {} is not writable: {}", want.string(),
                                          existing.string(), why);
  }
  return {};
}

std::string file_digest(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  const std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(content.data(), content.size(), md, &len, EVP_sha256(), nullptr) != 1) return {};
  std::string hex;
  for (unsigned int i = 0; i < len; ++i) fmt::format_to(std::back_inserter(hex), "{:02x}", md[i]);
  return hex;
}

void check_tls_file(const ConfigReader& r, const char* key, const std::string& path, TlsFile kind) {
  if (path.empty()) return;
  if (std::string p = tls_file_problem(path, kind); !p.empty()) {
    r.errors.add(r.node[key], r.key_name(key), p);
    return;
  }
  r.errors.note_loaded_file(path, file_digest(path));
}

void check_tls_pair(const ConfigReader& r, const std::string& cert, const std::string& key) {
  if (cert.empty() || key.empty()) return;
  if (std::string p = tls_pair_problem(cert, key); !p.empty()) r.errors.add(r.node["key"], r.key_name("key"), p);
}

void check_output_dir(const ConfigReader& r, const char* key, const std::string& dir) {
  if (std::string p = directory_problem(dir); !p.empty()) r.errors.add(r.node[key], r.key_name(key), p);
}

}  // namespace saker
