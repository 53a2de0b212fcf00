package org.postern.health.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/** The one configuration every component of this bundle reads (PID {@value #PID}). */
@ObjectClassDefinition(name = "Postern health checks",
        description = "Thresholds of the checks tagged postern, and the /health endpoint load balancers poll")
public @interface HealthSettings {
    String PID = "org.postern.health";
    /** The tag of every check here: hc:exec -t postern runs them, and /health answers for them. */
    String TAG = "postern";

    @AttributeDefinition(description = "Megabytes the spool's file system must have free; below that the spool check warns")
    long spool_min_free_mb() default 100;

    @AttributeDefinition(description = "Megabytes free below which the spool check is CRITICAL")
    long spool_critical_free_mb() default 10;

    @AttributeDefinition(description = "Seconds a daemon a plugin depends on (spamd, clamd, the smarthost, Redis, DNS) has to answer")
    int peer_timeout_seconds() default 3;

    @AttributeDefinition(description = "Where the HTTP service answers with the checks' results")
    String path() default "/health";

    @AttributeDefinition(description = "HTTP status of /health when the worst result is WARN: 200 keeps the server in a load "
            + "balancer's pool, 503 takes it out. OK is always 200, anything worse than WARN 503")
    int http_status_warn() default 200;
}
