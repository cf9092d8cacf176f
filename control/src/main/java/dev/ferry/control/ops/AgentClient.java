package dev.ferry.control.ops;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * Talks to a running agent's metrics listener ({@code /services}, {@code /conntrack}) for the
 * operator commands. Every failure becomes an {@link AgentException} whose message says what
 * was asked of which agent and what to check.
 */
public final class AgentClient {
    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
    static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(60);
    private static final ObjectMapper JSON = JsonMapper.builder().build();

    private final URI base;
    private final HttpClient http;

    /** @param agentUrl e.g. "http://127.0.0.1:10249"; throws {@link IllegalArgumentException} naming it when it is not an http URL */
    public AgentClient(final String agentUrl) {
        this.base = parse(agentUrl);
        this.http = HttpClient.newBuilder().connectTimeout(CONNECT_TIMEOUT).version(HttpClient.Version.HTTP_1_1).build();
    }

    private static URI parse(final String agentUrl) {
        final String url = agentUrl.endsWith("/") ? agentUrl.substring(0, agentUrl.length() - 1) : agentUrl;
        try {
            final URI uri = new URI(url);
            if (!"http".equals(uri.getScheme()) || uri.getHost() == null) {
                throw new IllegalArgumentException("--agent: '" + agentUrl + "' is not an http://host:port URL");
            }
            return uri;
        } catch (final URISyntaxException e) {
            throw new IllegalArgumentException("--agent: '" + agentUrl + "' is not a URL: " + e.getMessage());
        }
    }

    public URI base() {
        return base;
    }

    /** GET path?query, parsed as JSON. */
    public JsonNode get(final String path, final String query) {
        return send("GET", path, query);
    }

    private JsonNode send(final String method, final String path, final String query) {
        final URI uri = URI.create(base + path + (query == null || query.isEmpty() ? "" : "?" + query));
        final HttpRequest request = HttpRequest.newBuilder(uri).timeout(REQUEST_TIMEOUT)
            .method(method, HttpRequest.BodyPublishers.noBody()).header("Accept", "application/json").build();
        final HttpResponse<String> response;
        try {
            response = http.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        } catch (final ConnectException e) {
            throw new AgentException("cannot reach the ferry agent at " + base + " (connection refused): is the agent "
                + "running, and is its metrics listener at this address? Point --agent at it otherwise.", e);
        } catch (final HttpTimeoutException e) {
            throw new AgentException(method + " " + uri + ": the agent did not answer in time (" + e.getMessage() + ")", e);
        } catch (final IOException e) {
            throw new AgentException(method + " " + uri + ": " + e, e);
        } catch (final InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AgentException(method + " " + uri + ": interrupted", e);
        }
        final JsonNode body;
        try {
            body = JSON.readTree(response.body());
        } catch (final IOException e) {
            throw new AgentException(method + " " + uri + ": HTTP " + response.statusCode() + " with a body that is not JSON: "
                + abbreviate(response.body()) + " (is --agent the agent's metrics port?)", e);
        }
        if (response.statusCode() / 100 != 2) {
            final String message = body.hasNonNull("error") ? body.get("error").asText() : abbreviate(response.body());
            throw new AgentException("the agent at " + base + " answered " + method + " " + path + " with HTTP "
                + response.statusCode() + ": " + message, null);
        }
        return body;
    }

    private static String abbreviate(final String text) {
        final String t = text.strip();
        return t.length() <= 200 ? t : t.substring(0, 200) + "...";
    }

    /** A request to the agent failed; the message is meant for the operator. */
    public static final class AgentException extends RuntimeException {
        public AgentException(final String message, final Throwable cause) {
            super(message, cause);
        }
    }
}
