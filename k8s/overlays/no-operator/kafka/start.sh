# Starts the one Kafka node: writes server.properties (the static part from this ConfigMap, plus the advertised
# address and the broker's own SCRAM login, which hold the pod's name and the password), formats the storage on
# first start with the SCRAM user `tandem` in its metadata (as the local stack does), then runs the broker.
set -eu
data=/var/lib/kafka/data
config=/tmp/server.properties
classpath='/opt/kafka/lib/*'
log4j=-Dlog4j2.configurationFile=/etc/kafka-tandem/log4j2.properties
# The password goes into Kafka's own syntaxes unquoted (as the stack's): refuse anything that could break them.
case $KAFKA_SASL_PASSWORD in *[!A-Za-z0-9._~-]* | '') echo "the Secret tandem/password must be [A-Za-z0-9._~-]" >&2; exit 1 ;; esac

umask 077
{
  cat /etc/kafka-tandem/server.properties
  echo "advertised.listeners=SASL_PLAINTEXT://$POD_NAME.tandem-kafka-brokers.$POD_NAMESPACE.svc.cluster.local:9092"
  echo "log.dirs=$data"
  cat <<JAAS
listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="$KAFKA_SASL_USERNAME" password="$KAFKA_SASL_PASSWORD";
JAAS
} >"$config"

if [ ! -f "$data/meta.properties" ]; then
  # The tool's last line is the id (log lines may come before it).
  id=$(java "$log4j" -cp "$classpath" kafka.tools.StorageTool random-uuid | tail -n 1)
  java "$log4j" -cp "$classpath" kafka.tools.StorageTool format "--cluster-id=$id" -c "$config" \
    --add-scram "SCRAM-SHA-512=[name=$KAFKA_SASL_USERNAME,password=$KAFKA_SASL_PASSWORD]" >/dev/null
  echo "formatted $data (cluster $id) with the SCRAM user $KAFKA_SASL_USERNAME"
fi
# shellcheck disable=SC2086 # KAFKA_HEAP_OPTS is a list of JVM options
exec java $KAFKA_HEAP_OPTS -XX:+UseG1GC -Djava.awt.headless=true "$log4j" -cp "$classpath" kafka.Kafka "$config"
