#pragma once
// Files a component opens only once it runs, checked while the config is read, so `saker check` reports a
// certificate that does not parse or an output folder that cannot be created before `saker run` meets it.
#include <string>

#include "config/node.hpp"

namespace saker {

enum class TlsFile { certificate, private_key, ca_bundle };

// Empty when `path` is a readable PEM file of that kind (loaded with OpenSSL as the TLS code will load it);
// otherwise what is wrong. A private key may be encrypted when its `passphrase` is given.
std::string tls_file_problem(const std::string& path, TlsFile kind, const std::string& passphrase = {});
// Empty when `path` is a file saker can read (a keystore, a CRL, a keytab: files only their library parses).
std::string readable_file_problem(const std::string& path);
// Empty when `path` is a folder saker can list and read (a CA folder of hashed certificate names).
std::string readable_directory_problem(const std::string& path);
// Empty when the private key in `key` belongs to the certificate in `cert` (both already good on their own).
std::string tls_pair_problem(const std::string& cert, const std::string& key);
// Empty when `dir` is a writable folder or can be created (its nearest existing ancestor is a writable folder).
std::string directory_problem(const std::string& dir);

// SHA-256 of the file's content, in hex; empty when it cannot be read.
std::string file_digest(const std::string& path);

// Record the problem, if any, at `key` of `r`. A good TLS file is noted with its digest
// (ConfigErrors::note_loaded_file), so a reload sees new content at the same path as a change.
void check_tls_file(const ConfigReader& r, const char* key, const std::string& path, TlsFile kind);
void check_tls_pair(const ConfigReader& r, const std::string& cert, const std::string& key);
void check_output_dir(const ConfigReader& r, const char* key, const std::string& dir);

}  // namespace saker
