/*
 * test_gateway_tls.c: with a certificate configured the gateway speaks only
 * HTTPS, and a client that trusts the certificate gets the same API.
 */
#include "e2e.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

static void gateway_serves_https_when_a_certificate_is_configured(void **state)
{
    (void)state;
    const char *var = getenv("COAL_VAR") ? getenv("COAL_VAR") : "/tmp";
    char cert[256], key[256], cmd[1024], cert_env[300], key_env[300];
    snprintf(cert, sizeof cert, "%s/tls-%d.crt", var, (int)getpid());
    snprintf(key, sizeof key, "%s/tls-%d.key", var, (int)getpid());
    snprintf(cmd, sizeof cmd,
             "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 "
             "-addext subjectAltName=IP:127.0.0.1 -keyout %s -out %s 2>/dev/null",
             key, cert);
    assert_int_equal(system(cmd), 0);
    snprintf(cert_env, sizeof cert_env, "COAL_GATEWAY_TLS_CERT=%s", cert);
    snprintf(key_env, sizeof key_env, "COAL_GATEWAY_TLS_KEY=%s", key);
    const char *env[] = {cert_env, key_env, NULL};
    e2e_t *e = calloc(1, sizeof *e);
    e2e_start(e, false, env, NULL);
    snprintf(e->tls_ca, sizeof e->tls_ca, "%s", cert);
    e2e_resp_t r;
    e2e_http(e, "POST", "/v1/keys", e->admin_key, "tls-1", "{\"role\":\"app\",\"name\":\"tls\"}",
             NULL, &r);
    assert_int_equal(r.status, 201);
    assert_int_equal(strlen(e2e_str(&r, "api_key")), 100);
    e2e_resp_clear(&r);
    /* Plain HTTP on the same port gets no API answer. */
    char url[128];
    snprintf(url, sizeof url,
             "curl -s -o /dev/null -w '%%{http_code}' --max-time 5 http://127.0.0.1:%d/healthz "
             "| grep -qx 000",
             e->port);
    assert_int_equal(system(url), 0);
    e2e_stop(e);
    free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(gateway_serves_https_when_a_certificate_is_configured),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
