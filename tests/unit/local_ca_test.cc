#include "identity/local/local_ca.h"

#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>

#include "common/strings.h"
#include "identity/local/x509_util.h"
#include "tests/unit/temp_dir.h"

namespace reattest::identity {
namespace {

using std::chrono::floor;
using std::chrono::hours;
using std::chrono::seconds;
using Clock = std::chrono::system_clock;

constexpr std::string_view kTrustDomain = "example.org";

std::unique_ptr<LocalCa> MakeCa(const std::string& data_dir, Duration ttl = hours(24)) {
  absl::StatusOr<std::unique_ptr<LocalCa>> ca =
      LocalCa::LoadOrCreate(data_dir, kTrustDomain, ttl, [] { return 1.0; });
  INFO(ca.status().ToString());
  REQUIRE(ca.ok());
  return *std::move(ca);
}

Entry MakeEntry(std::vector<std::string> dns_names = {}) {
  return Entry{.spiffe_id = *SpiffeId::Parse("spiffe://example.org/web"),
               .selectors = {"unix:uid:1000"},
               .dns_names = std::move(dns_names)};
}

// Parses exactly one DER certificate, failing on trailing bytes.
X509Ptr ParseDer(const std::string& der) {
  const auto* data = reinterpret_cast<const unsigned char*>(der.data());
  const unsigned char* end = data + der.size();
  X509Ptr cert(d2i_X509(nullptr, &data, static_cast<long>(der.size())));
  REQUIRE(cert != nullptr);
  REQUIRE(data == end);
  return cert;
}

EvpPkeyPtr ParsePkcs8(const std::string& der) {
  const auto* data = reinterpret_cast<const unsigned char*>(der.data());
  Pkcs8Ptr pkcs8(d2i_PKCS8_PRIV_KEY_INFO(nullptr, &data, static_cast<long>(der.size())));
  REQUIRE(pkcs8 != nullptr);
  EvpPkeyPtr key(EVP_PKCS82PKEY(pkcs8.get()));
  REQUIRE(key != nullptr);
  return key;
}

int VerifyAgainstBundle(X509& leaf, const std::string& bundle_der) {
  X509Ptr root = ParseDer(bundle_der);
  X509StorePtr store(X509_STORE_new());
  X509StoreCtxPtr context(X509_STORE_CTX_new());
  REQUIRE(X509_STORE_add_cert(store.get(), root.get()) == 1);
  REQUIRE(X509_STORE_CTX_init(context.get(), store.get(), &leaf, nullptr) == 1);
  int verified = X509_verify_cert(context.get());
  INFO(X509_verify_cert_error_string(X509_STORE_CTX_get_error(context.get())));
  CHECK(verified == 1);
  return verified;
}

mode_t ModeOf(const std::string& path) {
  struct stat info;
  REQUIRE(stat(path.c_str(), &info) == 0);
  return info.st_mode & 07777;
}

TEST_CASE("A generated CA is persisted and reloads with the identical bundle", "[local_ca]") {
  testing::TempDir dir;
  std::string data_dir = dir.Join("data");
  std::unique_ptr<LocalCa> first = MakeCa(data_dir);
  std::unique_ptr<LocalCa> second = MakeCa(data_dir);

  CHECK_FALSE(first->bundle_der().empty());
  CHECK(second->bundle_der() == first->bundle_der());
  CHECK(second->expiry() == first->expiry());
}

TEST_CASE("The CA's files and directory are private to the agent", "[local_ca]") {
  testing::TempDir dir;
  std::string data_dir = dir.Join("data");
  MakeCa(data_dir);

  CHECK(ModeOf(data_dir) == 0700);
  CHECK(ModeOf(data_dir + "/ca.key") == 0600);
  CHECK(ModeOf(data_dir + "/ca.pem") == 0644);
}

TEST_CASE("A generated CA is a self-signed CA for the trust domain", "[local_ca]") {
  testing::TempDir dir;
  Clock::time_point before = floor<seconds>(Clock::now());
  std::unique_ptr<LocalCa> ca = MakeCa(dir.Join("data"), hours(24));
  X509Ptr cert = ParseDer(ca->bundle_der());

  CHECK(UriSans(*cert) == std::vector<std::string>{"spiffe://example.org"});
  CHECK((X509_get_extension_flags(cert.get()) & EXFLAG_CA) != 0);
  CHECK(X509_get_key_usage(cert.get()) == (KU_KEY_CERT_SIGN | KU_CRL_SIGN));
  CHECK(X509_check_issued(cert.get(), cert.get()) == X509_V_OK);
  CHECK(X509_get0_subject_key_id(cert.get()) != nullptr);
  CHECK(ca->expiry() >= before + hours(24));
  CHECK(ca->expiry() <= Clock::now() + hours(24));
}

TEST_CASE("A CA generated for another trust domain is refused", "[local_ca]") {
  testing::TempDir dir;
  MakeCa(dir.Join("data"));
  absl::StatusOr<std::unique_ptr<LocalCa>> other =
      LocalCa::LoadOrCreate(dir.Join("data"), "other.org", hours(24));
  REQUIRE_FALSE(other.ok());
  CHECK(Concat(other.status().message()).find("not trust domain other.org") != std::string::npos);
}

TEST_CASE("A minted SVID verifies against the bundle", "[local_ca]") {
  testing::TempDir dir;
  std::unique_ptr<LocalCa> ca = MakeCa(dir.Join("data"));
  absl::StatusOr<X509Svid> svid = ca->MintX509Svid(MakeEntry(), hours(1), Clock::now());
  REQUIRE(svid.ok());
  X509Ptr leaf = ParseDer(svid->cert_chain_der);

  CHECK(VerifyAgainstBundle(*leaf, ca->bundle_der()) == 1);
  CHECK(svid->spiffe_id.str() == "spiffe://example.org/web");
}

TEST_CASE("A minted SVID carries exactly its SPIFFE ID as URI SAN", "[local_ca]") {
  testing::TempDir dir;
  std::unique_ptr<LocalCa> ca = MakeCa(dir.Join("data"));
  absl::StatusOr<X509Svid> svid =
      ca->MintX509Svid(MakeEntry({"web.internal", "web"}), hours(1), Clock::now());
  REQUIRE(svid.ok());
  X509Ptr leaf = ParseDer(svid->cert_chain_der);

  CHECK(UriSans(*leaf) == std::vector<std::string>{"spiffe://example.org/web"});
  CHECK(X509_check_host(leaf.get(), "web.internal", 0, 0, nullptr) == 1);
  CHECK(X509_check_host(leaf.get(), "web", 0, 0, nullptr) == 1);
  CHECK((X509_get_extension_flags(leaf.get()) & EXFLAG_CA) == 0);
  CHECK(X509_get_key_usage(leaf.get()) ==
        (KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT | KU_KEY_AGREEMENT));
  CHECK(X509_get_extended_key_usage(leaf.get()) == (XKU_SSL_SERVER | XKU_SSL_CLIENT));

  char common_name[128] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(leaf.get()), NID_commonName, common_name,
                            sizeof(common_name));
  CHECK(std::string(common_name) == "web.internal");
}

TEST_CASE("A minted SVID's PKCS#8 key matches its certificate", "[local_ca]") {
  testing::TempDir dir;
  std::unique_ptr<LocalCa> ca = MakeCa(dir.Join("data"));
  absl::StatusOr<X509Svid> svid = ca->MintX509Svid(MakeEntry(), hours(1), Clock::now());
  REQUIRE(svid.ok());
  X509Ptr leaf = ParseDer(svid->cert_chain_der);
  EvpPkeyPtr key = ParsePkcs8(svid->private_key_der);

  CHECK(EVP_PKEY_get_base_id(key.get()) == EVP_PKEY_EC);
  CHECK(EVP_PKEY_eq(X509_get0_pubkey(leaf.get()), key.get()) == 1);
}

TEST_CASE("An SVID's validity starts 30s early and rotates at half life", "[local_ca]") {
  testing::TempDir dir;
  std::unique_ptr<LocalCa> ca = MakeCa(dir.Join("data"));
  Clock::time_point now = floor<seconds>(Clock::now());
  absl::StatusOr<X509Svid> svid = ca->MintX509Svid(MakeEntry(), hours(1), now);
  REQUIRE(svid.ok());

  CHECK(svid->not_before == now - seconds(30));
  CHECK(svid->not_after == now + hours(1));
  // The injected jitter is 1.0: exactly half of the 3630 s lifetime.
  CHECK(svid->rotate_at == svid->not_before + seconds(1815));
}

TEST_CASE("Rotation jitter stretches or shortens the half life", "[local_ca]") {
  testing::TempDir dir;
  absl::StatusOr<std::unique_ptr<LocalCa>> ca =
      LocalCa::LoadOrCreate(dir.Join("data"), kTrustDomain, hours(24), [] { return 1.1; });
  REQUIRE(ca.ok());
  absl::StatusOr<X509Svid> svid = (*ca)->MintX509Svid(MakeEntry(), seconds(170), Clock::now());
  REQUIRE(svid.ok());

  CHECK(svid->rotate_at == svid->not_before + seconds(110));
}

TEST_CASE("Random rotation jitter stays within 10% of half life", "[local_ca]") {
  for (int i = 0; i < 1000; ++i) {
    double jitter = RandomRotationJitter();
    REQUIRE(jitter >= 0.9);
    REQUIRE(jitter <= 1.1);
  }
}

TEST_CASE("An SVID never outlives its CA", "[local_ca]") {
  testing::TempDir dir;
  std::unique_ptr<LocalCa> ca = MakeCa(dir.Join("data"), hours(1));
  absl::StatusOr<X509Svid> svid = ca->MintX509Svid(MakeEntry(), hours(24 * 365), Clock::now());
  REQUIRE(svid.ok());

  CHECK(svid->not_after == ca->expiry());
  X509Ptr leaf = ParseDer(svid->cert_chain_der);
  CHECK(*NotAfter(*leaf) == ca->expiry());
}

TEST_CASE("An expired CA mints nothing", "[local_ca]") {
  testing::TempDir dir;
  std::unique_ptr<LocalCa> ca = MakeCa(dir.Join("data"), hours(1));
  absl::StatusOr<X509Svid> svid = ca->MintX509Svid(MakeEntry(), hours(1), ca->expiry());
  REQUIRE_FALSE(svid.ok());
  CHECK(svid.status().code() == absl::StatusCode::kFailedPrecondition);
}

TEST_CASE("An operator-supplied CA loads from its files", "[local_ca]") {
  testing::TempDir dir;
  std::unique_ptr<LocalCa> generated = MakeCa(dir.Join("a"));
  absl::StatusOr<std::unique_ptr<LocalCa>> loaded =
      LocalCa::LoadFromFiles(dir.Join("a/ca.pem"), dir.Join("a/ca.key"), kTrustDomain);
  REQUIRE(loaded.ok());
  CHECK((*loaded)->bundle_der() == generated->bundle_der());
}

TEST_CASE("An operator-supplied CA whose key does not match is refused", "[local_ca]") {
  testing::TempDir dir;
  MakeCa(dir.Join("a"));
  MakeCa(dir.Join("b"));
  absl::StatusOr<std::unique_ptr<LocalCa>> mixed =
      LocalCa::LoadFromFiles(dir.Join("a/ca.pem"), dir.Join("b/ca.key"), kTrustDomain);
  REQUIRE_FALSE(mixed.ok());
  CHECK(mixed.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(Concat(mixed.status().message()) ==
        Concat(dir.Join("b/ca.key"), ": the key does not match the CA certificate"));
}

}  // namespace
}  // namespace reattest::identity
