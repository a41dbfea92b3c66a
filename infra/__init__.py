"""The Pulumi program's components, in packages by architectural part. `__main__.py` wires them in this
order, and each part imports only the parts below it (import-linter's contracts in pyproject.toml):

- `ui/`, `monitoring/`: the Streamlit UI behind its load balancer (and sign-in); the dashboard and alarms;
- `api/`, `models/`, `jobs/`, `retention/`: the HTTP API; model publishing; async jobs; message retention;
- `functions/`: the one building block every Lambda function of the stack is made with;
- `images/`, `storage/`: the container images in ECR; the shared file system (EFS);
- `network/`: the VPC and its way to S3;
- `building_blocks/`: the AWS provider, IAM documents, security-group shapes, private buckets;
- `config/`: the settings, their checks, AWS's limits, the physical names and the model folders."""
