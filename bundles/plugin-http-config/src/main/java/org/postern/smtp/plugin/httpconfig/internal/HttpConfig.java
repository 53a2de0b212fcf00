package org.postern.smtp.plugin.httpconfig.internal;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.postern.smtp.api.ConfigContext;
import org.postern.smtp.api.ConfigHook;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.LogLevel;
import org.postern.smtp.api.propertytypes.HookOrder;
import org.postern.smtp.api.propertytypes.PosternHook;
import org.postern.smtp.api.propertytypes.PosternPlugin;

/**
 * Answers config items from HTTP, as qpsmtpd's {@code http_config}: each URL template is tried in turn with the
 * item's name; the first 200 answer's lines are the values. Answers, and failures, are cached, so a slow or
 * unreachable server costs at most one timeout per item and cache period.
 */
@Component(service = ConfigHook.class, configurationPid = HttpConfig.PID, configurationPolicy = ConfigurationPolicy.REQUIRE)
@Designate(ocd = HttpConfig.Config.class)
@PosternPlugin("http_config")
@PosternHook("config")
@HookOrder(100)
public final class HttpConfig implements ConfigHook {
    static final String PID = "org.postern.smtp.plugin.http_config";

    @ObjectClassDefinition(name = "Postern plugin: http_config")
    public @interface Config {
        @AttributeDefinition(description = "URL templates, tried in order: {item} is replaced by the item's name; without it the name is appended")
        String[] urls();

        @AttributeDefinition(description = "Milliseconds to wait for one HTTP answer")
        int timeout_ms() default 2000;

        @AttributeDefinition(description = "Seconds an answer is reused")
        int cache_seconds() default 300;

        @AttributeDefinition(description = "Seconds a miss or a failure is remembered before the URLs are asked again")
        int miss_cache_seconds() default 60;
    }

    private record Cached(List<String> values, long expiresMillis) {
    }

    private final List<String> urls;
    private final Duration timeout;
    private final long cacheMillis;
    private final long missCacheMillis;
    private final LongSupplier clock;
    private final HttpClient client;
    private final Map<String, Cached> cache = new ConcurrentHashMap<>();

    @Activate
    public HttpConfig(Config config) {
        this(List.of(config.urls()), Duration.ofMillis(config.timeout_ms()), config.cache_seconds() * 1000L,
                config.miss_cache_seconds() * 1000L, System::currentTimeMillis);
    }

    HttpConfig(List<String> urls, Duration timeout, long cacheMillis, long missCacheMillis, LongSupplier clock) {
        this.urls = urls.stream().map(String::strip).filter(url -> !url.isEmpty()).toList();
        this.timeout = timeout;
        this.cacheMillis = cacheMillis;
        this.missCacheMillis = missCacheMillis;
        this.clock = clock;
        this.client = HttpClient.newBuilder().connectTimeout(timeout).followRedirects(HttpClient.Redirect.NORMAL).build();
    }

    @Override
    public HookResult onConfig(ConfigContext ctx) {
        String item = ctx.item();
        long now = clock.getAsLong();
        Cached cached = cache.get(item);
        if (cached == null || cached.expiresMillis() <= now) {
            List<String> values = fetch(ctx, item);
            cached = new Cached(values, now + (values.isEmpty() ? missCacheMillis : cacheMillis));
            cache.put(item, cached);
        }
        return cached.values().isEmpty() ? HookResult.declined() : HookResult.ok(cached.values());
    }

    private List<String> fetch(ConfigContext ctx, String item) {
        String encoded = URLEncoder.encode(item, StandardCharsets.UTF_8);
        for (String template : urls) {
            String url = template.contains("{item}") ? template.replace("{item}", encoded) : template + encoded;
            try {
                HttpResponse<String> response = client.send(HttpRequest.newBuilder(URI.create(url)).timeout(timeout).GET().build(),
                        HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
                if (response.statusCode() == 200) {
                    List<String> values = response.body().lines().map(String::strip)
                            .filter(line -> !line.isEmpty() && !line.startsWith("#")).toList();
                    ctx.log(LogLevel.DEBUG, "config item " + item + " from " + url + ": " + values.size() + " value(s)");
                    return values;
                }
                if (response.statusCode() != 404) {
                    ctx.log(LogLevel.WARN, "config item " + item + ": " + url + " answered HTTP " + response.statusCode());
                }
            } catch (IOException | IllegalArgumentException e) {
                ctx.log(LogLevel.WARN, "config item " + item + ": " + url + " failed: " + e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return List.of();
            }
        }
        return List.of();
    }
}
